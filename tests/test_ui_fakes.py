"""A small hand-made assistant for the UI tests (no index, no model)."""

from __future__ import annotations

from assistant.conversation import Conversation
from assistant.types import Answer, Citation, InvalidQuestion, Retrieved
from ingest.records import KPI, Action, FinalGoal, Measure, PlanInfo

PLANS = {
    "oita": PlanInfo(id="oita", city="大分市", title="大分市DX推進計画 アクションプラン 第1期", source="oita.txt",
                     parser="oita", measure_label="No.", start_year=2025, end_year=2026),
    "nobeoka": PlanInfo(id="nobeoka", city="延岡市", title="延岡市DX推進計画（案）", source="nobeoka.txt",
                        parser="nobeoka", measure_label="重点方針", start_year=2026, end_year=2030),
}

APP = Measure(
    plan="oita",
    number=3,
    title="公式アプリの機能拡充",
    overview="2014(平成26)年度から「大分市公式アプリ」を公開し、\n無料で利用することができます。",
    background="年々利用者数が増えつつあります。",
    actions=[Action(text="イベント情報発信機能の改善等UI・UXの向上に向けたアプリの改修", years=[2025, 2026])],
    kpis=[
        KPI(text="大分市公式アプリのダウンロード件数 【68,000件/累積】", year=2025, year_label="2025(令和7)年度",
            targets=["68,000件"], baseline="52,187件/累積：令和5年度末", target="68,000件"),
        KPI(text="大分市公式アプリのダウンロード件数 【76,000件/累積】", year=2026, year_label="2026(令和8)年度",
            targets=["76,000件"], baseline="52,187件/累積：令和5年度末", target="76,000件"),
    ],
    final_goal=FinalGoal(text="使い勝手の良いアプリであることを追求します。", target_year=2030,
                         target_year_text="2030年度（令和12年度）"),
)
BRIDGE = Measure(
    plan="oita",
    number=12,
    title="橋梁点検のデジタル化",
    overview="職員がタブレットで橋梁を点検します。",
    kpis=[KPI(text="システムで点検する橋梁の件数 【120橋】", year=2026, year_label="2026(令和8)年度", targets=["120橋"])],
)
ONLINE = Measure(
    plan="nobeoka",
    number=2,
    title="行かなくてもいい市役所の推進",
    goal_state="オンラインで手続きが完結する市役所",
    kpis=[KPI(text="ぴったりサービスを活用したオンライン申請の利用率", year=2030, year_label="R12（2030年度）目標",
              targets=["90%"], baseline="40%", target="90%")],
)
MEASURES = [APP, BRIDGE, ONLINE]


class FakeAssistant:
    """Implements the engine interface the UI uses, with canned answers."""

    def __init__(self) -> None:
        self.plans = dict(PLANS)
        self.calls: list[tuple[str, str | None]] = []

    def ask(self, question: str, plan: str | None = None, conversation: Conversation | None = None) -> Answer:
        self.calls.append((question, plan))
        if not question.strip():
            raise InvalidQuestion("質問を入力してください。")
        if len(question) > 500:
            raise InvalidQuestion("質問が長すぎます（500文字まで）。")
        if "故障" in question:
            raise RuntimeError("engine exploded: /secret/path")
        if "延岡" in question or plan == "nobeoka":
            citation = Citation(plan="nobeoka", measure="2", title=ONLINE.title, field="kpi",
                                quote="ぴったりサービスを活用したオンライン申請の利用率", label="延岡市 重点方針2 行かなくてもいい市役所の推進")
            text = "延岡市 重点方針2のKPIは、オンライン申請の利用率を40%から90%にすることです。"
        else:
            citation = Citation(plan="oita", measure="3", title=APP.title, field="kpi",
                                quote="大分市公式アプリのダウンロード件数 【76,000件/累積】")
            text = f"「{question}」について：大分市 No.3 公式アプリの2026年度の目標はダウンロード76,000件です。"
        retrieved = [Retrieved(m.plan, str(m.number), 1.0 / (i + 1), m.title)
                     for i, m in enumerate(MEASURES) if plan in (None, m.plan)]
        answer = Answer(question=question, text=text, citations=[citation], intent="kpi", latency_ms=12.5,
                        retrieved=retrieved)
        if conversation is not None:
            conversation.add(answer)
        return answer

    def measures(self, plan: str | None = None) -> list[Measure]:
        return [m for m in MEASURES if plan in (None, m.plan)]

    def measure(self, plan: str, number: int) -> Measure | None:
        return next((m for m in MEASURES if m.plan == plan and m.number == number), None)
