"""End to end: the real assistant behind ``python -m ui.app``, driven by Chromium and gradio_client.

Skipped (with the reason) when the index has not been built, or when
``/usr/bin/chromium`` or Playwright for Python is missing (browser test only).
The screenshot goes to ``test-artifacts/ui-chat.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import stop_process

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
QUESTION = "公式アプリの2026年度の目標は？"
STARTUP_TIMEOUT_S = 300  # loading the embedding model on a CPU can take a while
ANSWER_TIMEOUT_MS = 180_000


def _require_index() -> None:
    from assistant.settings import load_settings
    from vectorstore.store import current_generation

    settings = load_settings()
    try:
        current_generation(settings.index_dir)
    except Exception as exc:  # MissingIndex / CorruptIndex
        pytest.skip(f"索引がないため E2E をスキップします（先に planqa index を実行）: {exc}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def _wait_until_up(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"UI サーバーが終了しました（rc={proc.returncode}）:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"UI サーバーが {STARTUP_TIMEOUT_S} 秒以内に起動しませんでした:\n{_log_tail(log)}")


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} がありません（apt-get install chromium）")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python がありません（pip install playwright）")
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a UI server with the real assistant, stopped after the module."""
    _require_index()
    tmp = tmp_path_factory.mktemp("ui-server")
    port = _free_port()
    env = dict(os.environ)
    env.pop("PLANQA_AUTH", None)
    env.update(
        PLANQA_HOST="127.0.0.1",
        PLANQA_PORT=str(port),
        PLANQA_FEEDBACK_DB=str(tmp / "feedback.sqlite3"),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
    )
    log = tmp / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ui.app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(proc, url + "/", log)
        yield url
    finally:
        stop_process(proc, 15)


def test_chat_in_browser(chromium: Path, server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
            page.goto(server)
            page.locator("#question textarea").fill(QUESTION)
            page.locator("#send").click()
            citation = page.locator("#citations label", has_text="大分市 No.3").first
            expect(citation).to_be_visible(timeout=ANSWER_TIMEOUT_MS)  # shown with the final answer
            expect(page.locator("#chatbot")).to_contain_text("大分市 No.3")
            citation.click()
            card = page.locator("#source-card .source-card")
            expect(card).to_be_visible(timeout=30_000)
            expect(card).to_contain_text("大分市 No.3")
            expect(card.locator(".kpi-table")).to_be_visible()
            assert "Traceback" not in page.content()
            page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)
        finally:
            browser.close()


def test_ask_api(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    result = client.predict(QUESTION, "oita", api_name="/ask")
    assert isinstance(result, dict) and "error" not in result, result
    cited = {(c["plan"], str(c["measure"])) for c in result["citations"]}
    assert ("oita", "3") in cited, result
    bad = client.predict("", None, api_name="/ask")
    assert set(bad) == {"error"} and bad["error"]
