"""The UI served in-process with the fake assistant: /ask over HTTP and a browser run.

Runs without an index (unlike tests/e2e/test_browser.py); the browser part is
skipped when /usr/bin/chromium or Playwright for Python is missing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ui_fakes import FakeAssistant

from assistant.settings import Settings
from ui.app import build_app, launch_options

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    tmp = tmp_path_factory.mktemp("ui-fake")
    settings = Settings(port=_free_port(), feedback_db=tmp / "feedback.sqlite3", auth="admin:secret")
    app = build_app(FakeAssistant(), settings)
    app.launch(**launch_options(settings), prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{settings.port}", settings
    finally:
        app.close()


def test_ask_over_http(served) -> None:
    from gradio_client import Client

    client = Client(served[0], verbose=False)
    result = client.predict("公式アプリの2026年度の目標は？", "oita", api_name="/ask")
    assert result["citations"][0]["plan"] == "oita" and result["citations"][0]["measure"] == "3"
    assert client.predict("", None, api_name="/ask") == {"error": "質問を入力してください。"}


def test_browser_flow(served) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} がありません")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python がありません")
    expect = sync_api.expect
    url, settings = served
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="ja-JP")
            alerts: list[str] = []
            page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
            page.goto(url)
            # example button → streamed answer → citation → source card
            page.get_by_role("button", name="公式アプリの2026年度の目標は？").click()
            citation = page.locator("#citations label", has_text="大分市 No.3").first
            expect(citation).to_be_visible(timeout=30_000)
            citation.click()
            card = page.locator("#source-card .source-card")
            expect(card).to_contain_text("大分市 No.3 公式アプリの機能拡充", timeout=10_000)
            expect(card.locator("mark").first).to_be_visible()
            expect(card.locator(".kpi-table")).to_contain_text("76,000件")
            # markup in a question is shown as text, never run
            page.locator("#question textarea").fill("<img src=x onerror=alert(1)><script>alert(2)</script>")
            page.locator("#send").click()
            done = "「<img src=x onerror=alert(1)><script>alert(2)</script>」について：大分市 No.3 公式アプリの2026年度の目標はダウンロード76,000件です。"
            expect(page.locator("#chatbot")).to_contain_text(done, timeout=10_000)  # the full text comes last
            assert page.locator("#chatbot img[src=x]").count() == 0 and not alerts
            # bad input → Japanese message, no traceback
            page.locator("#question textarea").fill("故障して")
            page.locator("#send").click()
            expect(page.locator("#chatbot")).to_contain_text("エラーが発生しました", timeout=10_000)
            assert "Traceback" not in page.content()
            # 👎 with a comment
            page.locator("#feedback-comment textarea").fill("テストのコメント")
            page.locator("#feedback-bad").click()
            expect(page.locator("#feedback-status")).to_contain_text("保存しました", timeout=10_000)
            # the フィードバック tab needs the login
            page.get_by_role("tab", name="フィードバック").click()
            page.get_by_label("ユーザー名").last.fill("admin")
            page.get_by_label("パスワード").last.fill("secret")
            page.get_by_role("button", name="ログイン").last.click()
            expect(page.locator("#feedback-table")).to_contain_text("テストのコメント", timeout=10_000)
        finally:
            browser.close()
    assert settings.feedback_db.is_file()
