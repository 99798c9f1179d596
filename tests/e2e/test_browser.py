"""End to end: the real assistant behind ``python -m ui.app``, driven by Chromium and gradio_client.

Skipped (with the reason) when the index has not been built, or when
``/usr/bin/chromium`` or Playwright for Python is missing (browser test only).
Checks, at 1400 px and at 390 px (phone): a KPI question shows the asked number
in the reply without scrolling; one source chip per measure with Japanese field
names; the source card opens with a chart whose bars are the record's numbers;
markup in a question stays text. Also the 比較 tab (both plans answer) and the
Markdown export. Screenshots go to ``test-artifacts/ui-chat-{desktop,phone}.png``.
"""

from __future__ import annotations

import json
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


KPI_MEASURE = 3  # 大分市 No.3 公式アプリの機能拡充
ASKED_NUMBER = "76,000"
FIELD_NAMES = {"概要", "取組", "KPI", "背景", "最終目標", "工程表", "本文", "用語解説", "目指す姿", "重点事業", "施策名", "計画の概要"}
VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}


def _record_numbers(plan: str, number: int) -> list[list[float]]:
    """The chart values the parsed record gives (tests/golden/records is checked against the parser)."""
    from ingest.records import plan_from_dict
    from ui.kpi_chart import kpi_series

    data = json.loads((ROOT / "tests" / "golden" / "records" / f"{plan}.json").read_text(encoding="utf-8"))
    data["info"] = {"id": plan, "city": plan, "title": plan, "source": ""}
    measure = plan_from_dict(data).measure(number)
    return [[p.value for p in s.points] for s in kpi_series(measure) if s.chartable]


def _chart_values(page, chart: str) -> list[float]:
    """Bar values read from the rendered chart: Vega's aria-label of each bar names the x value,
    then the y value (「現状値は…時点: 現状値; 件: 52187; 種別: …」)."""
    labels = page.locator(f"{chart} [aria-roledescription=bar]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))")
    return [float(label.split("; ")[1].split(": ", 1)[1].replace(",", "")) for label in labels]


VISIBLE_IN_REPLY = """(text) => {
  const rows = document.querySelectorAll('#chatbot .bot-row');
  const reply = rows[rows.length - 1];
  const log = document.querySelector('#chatbot [role="log"]').getBoundingClientRect();
  const walker = document.createTreeWalker(reply, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at); range.setEnd(node, at + text.length);
    const box = range.getBoundingClientRect();
    return box.width > 0 && box.top >= Math.max(0, log.top) && box.bottom <= Math.min(window.innerHeight, log.bottom);
  }
  return false;
}"""


def _top(page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top + window.scrollY")


@pytest.fixture(scope="module")
def browser(chromium: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_kpi_answer_first_with_chart(browser, server: str, device: str) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=VIEWPORTS[device], locale="ja-JP")
    alerts: list[str] = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    try:
        page.goto(server)
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#send").click()
        chips = page.locator("#citations label")
        expect(chips.first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)  # shown with the final answer
        expect(page.locator("#kpi-chart [aria-roledescription=bar]").first).to_be_attached(timeout=30_000)
        page.wait_for_timeout(500)  # the scroll to the newest answer runs after the answer
        # the asked number is in view without scrolling
        assert page.evaluate(VISIBLE_IN_REPLY, ASKED_NUMBER), "asked number not visible in the reply"
        # one chip per measure, Japanese field names only
        labels = chips.all_inner_texts()
        heads = [label.split("｜")[0].strip() for label in labels]
        assert len(heads) == len(set(heads)), labels
        assert any(h.startswith("大分市 No.3") for h in heads), labels
        for label in labels:
            fields = label.split("｜")[1].strip().split("・")
            assert set(fields) <= FIELD_NAMES, label
        # the first source is open: card and a chart whose bars are the record's numbers
        card = page.locator("#source-card .source-card")
        expect(card).to_contain_text("大分市 No.3")
        assert _chart_values(page, "#kpi-chart") == _record_numbers("oita", KPI_MEASURE)[0] == [52187.0, 68000.0, 76000.0]
        if device == "phone":  # answer, chips, card and chart come before the plan selector and the feedback
            order = [_top(page, s) for s in ("#chatbot", "#citations", "#source-card", "#kpi-chart", "#plan-select",
                                             "#feedback-comment")]
            assert order == sorted(order), order
        # screenshot down to the chart (on a phone: a taller screen, so the sticky question box sits below it)
        for _ in range(2):  # the layout settles after the first resize
            chart_box = page.locator("#kpi-chart").bounding_box()
            bottom = int(chart_box["y"] + chart_box["height"] + (100 if device == "phone" else 16))
            page.set_viewport_size({"width": VIEWPORTS[device]["width"], "height": max(VIEWPORTS[device]["height"], bottom)})
            page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"ui-chat-{device}.png"))
        page.set_viewport_size(VIEWPORTS[device])
        # markup in a question is shown as text, never run
        attack = "<img src=x onerror=alert(1)>の目標は？"
        page.locator("#question textarea").fill(attack)
        page.locator("#send").click()
        expect(page.locator("#chatbot .user-row").last).to_contain_text(attack, timeout=ANSWER_TIMEOUT_MS)
        expect(page.locator("#chatbot .bot-row").last).not_to_contain_text("計画を検索しています", timeout=ANSWER_TIMEOUT_MS)
        assert page.locator("#chatbot img[src=x]").count() == 0 and not alerts
        assert "Traceback" not in page.content()
    finally:
        page.close()


def test_compare_tab_shows_both_plans(browser, server: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORTS["phone"], locale="ja-JP")
    try:
        page.goto(server)
        page.get_by_role("tab", name="比較").click()
        page.locator("#compare-theme textarea, #compare-theme input").first.fill("マイナンバー")
        page.locator("#compare-run").click()
        oita = page.locator("#compare-oita .compare-item")
        nobeoka = page.locator("#compare-nobeoka .compare-item")
        expect(oita.first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(nobeoka.first).to_be_visible()
        assert any("マイナンバー" in t for t in oita.all_inner_texts())
        assert any("マイナンバー" in t for t in nobeoka.all_inner_texts())
        page.locator("#compare-pick label", has_text="延岡市 重点方針2").first.click()
        expect(page.locator("#compare-source-card .source-card")).to_contain_text("延岡市 重点方針2", timeout=30_000)
        expect(page.locator("#compare-kpi-chart [aria-roledescription=bar]").first).to_be_attached(timeout=30_000)
        assert _chart_values(page, "#compare-kpi-chart") in _record_numbers("nobeoka", 2)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-compare-phone.png"), full_page=True)
    finally:
        page.close()


def test_markdown_export(browser, server: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORTS["desktop"], locale="ja-JP")
    try:
        page.goto(server)
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#send").click()
        expect(page.locator("#citations label").first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        page.locator("#export").click()
        link = page.locator("#export-file a[href]").first
        expect(link).to_be_attached(timeout=30_000)
        exported = page.request.get(link.get_attribute("href")).text()
        assert f"> {QUESTION}" in exported
        assert ASKED_NUMBER in exported and "### 回答" in exported
        assert "大分市 No.3" in exported and "### 根拠" in exported
    finally:
        page.close()


def test_ask_api(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    result = client.predict(QUESTION, "oita", api_name="/ask")
    assert isinstance(result, dict) and "error" not in result, result
    cited = {(c["plan"], str(c["measure"])) for c in result["citations"]}
    assert ("oita", "3") in cited, result
    bad = client.predict("", None, api_name="/ask")
    assert set(bad) == {"error"} and bad["error"]
