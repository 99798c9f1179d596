"""``/api/*``: ask, measures and health as plain JSON (FastAPI router)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ingest.records import Measure
from ui.api_context import ApiContext, ApiError, environment_errors
from ui.chat import resolve_plan
from ui.render import answer_to_api

CONVERSATION_ID = r"^[A-Za-z0-9_-]{1,64}$"


class ErrorResponse(BaseModel):
    error: str = Field(description="日本語のエラーメッセージ", examples=["質問が空です。"])


class AskRequest(BaseModel):
    question: str = Field(description="質問（日本語）", examples=["公式アプリの2026年度の目標は？"])
    plan: str | None = Field(None, description="oita / nobeoka / 大分市 / 延岡市 / 両方（省略で両方）", examples=["oita"])
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID,
        description="続けての質問（「それの2025年度は？」）に使う会話 ID。前の回答の conversation_id を渡す",
    )


class CitationOut(BaseModel):
    plan: str = Field(description="計画 ID")
    measure: str | None = Field(description="施策番号・重点方針番号（施策でない節は null）")
    title: str
    field: str = Field(description="overview / action / kpi / final_goal / section など")
    quote: str = Field(description="引用した計画の記載")
    label: str = Field(description="表示名（例: 大分市 No.3 公式アプリの機能拡充）")


class RetrievedOut(BaseModel):
    plan: str
    measure: str | None
    score: float
    title: str
    field: str
    text: str
    chunk_id: str


class EvidenceOut(BaseModel):
    role: str = Field(description="answer（回答の根拠）/ support（補足）/ nearest（記載なしのときの近い記載）")
    id: str
    plan: str
    measure: str | None
    section: str | None
    field: str
    text: str = Field(description="計画の記載（1 文・1 行）")
    score: float
    parts: dict[str, float] = Field(description="スコアの内訳（dense, keyword, prior, 条件の加点）")


class AnswerOut(BaseModel):
    """planqa の回答オブジェクト（CLI の --json、Gradio の /ask と同じ項目）と会話 ID。"""

    model_config = ConfigDict(extra="ignore")

    question: str
    text: str = Field(description="回答の全文")
    citations: list[CitationOut] = Field(description="根拠の施策・節と引用")
    refused: bool = Field(description="計画に記載がないと答えた")
    retrieved: list[RetrievedOut] = Field(description="検索結果（上位 10 件）")
    intent: str
    backend: str = Field(description="回答したバックエンド: extractive / openai / ollama")
    latency_ms: float
    notice: str = Field(description="利用者への注記（LLM の回答を差し替えた等）")
    lead: str = Field(description="問われた事実を述べる冒頭の文")
    evidence: list[EvidenceOut] = Field(description="回答に使った計画の記載（事実）とスコアの内訳")
    conversation_id: str = Field(description="続けての質問に渡す会話 ID")


class HealthOut(BaseModel):
    status: str = Field(description="ok")
    index_generation: str = Field(description="使用中の索引の世代")
    embedding_model: str
    backend: str = Field(description="回答バックエンド")
    llm_model: str | None = Field(description="LLM バックエンドのモデル名（extractive なら null）")
    plans: dict[str, str] = Field(description="計画 ID → 市の名前")


class HealthDown(BaseModel):
    status: str = Field(description="unavailable")
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "入力の誤り（空の質問、長すぎる質問、不明な計画など）"},
    401: {"model": ErrorResponse, "description": "PLANQA_API_TOKEN が設定され、Bearer トークンがない・違う"},
    422: {"model": ErrorResponse, "description": "リクエストの形式の誤り"},
    503: {"model": ErrorResponse, "description": "索引やモデルがない、または混み合っている"},
}


def _one_plan(ctx: ApiContext, plan: str) -> str:
    resolved = resolve_plan(ctx.assistant.plans, plan)
    if resolved is None:
        raise ApiError(400, f"計画を 1 つ指定してください（{', '.join(ctx.assistant.plans)}）。")
    return resolved


def rest_router(ctx: ApiContext, auth) -> APIRouter:
    """Routes bound to one context; ``auth`` is the bearer-token dependency."""
    router = APIRouter(prefix="/api", tags=["planqa"])
    guarded = [Depends(auth)]

    @router.post("/ask", response_model=AnswerOut, responses={**ERRORS, 413: ERRORS[400]}, dependencies=guarded,
                 summary="質問に答える（根拠の施策番号つき）")
    def ask(body: AskRequest) -> dict[str, Any]:
        plan = resolve_plan(ctx.assistant.plans, body.plan)
        cid, conversation = ctx.conversations.get(body.conversation_id)
        answer = ctx.gate.run(lambda: ctx.assistant.ask(body.question, plan=plan, conversation=conversation))
        return {**answer_to_api(answer, ctx.assistant.plans), "conversation_id": cid}

    @router.get("/measures", response_model=list[Measure], responses=ERRORS, dependencies=guarded,
                summary="施策・重点方針と KPI の一覧")
    def measures(plan: str | None = Query(None, description="計画 ID または市の名前（省略ですべて）")) -> list[Measure]:
        return ctx.assistant.measures(resolve_plan(ctx.assistant.plans, plan))

    @router.get("/measures/{plan}/{number}", response_model=Measure,
                responses={**ERRORS, 404: {"model": ErrorResponse, "description": "その番号の施策はない"}},
                dependencies=guarded, summary="1 つの施策・重点方針")
    def measure(plan: str, number: int) -> Measure:
        pid = _one_plan(ctx, plan)
        found = ctx.assistant.measure(pid, number)
        if found is None:
            info = ctx.assistant.plans[pid]
            raise ApiError(404, f"{info.measure_name(number)} は計画にありません。", "not_found")
        return found

    @router.get("/health", response_model=HealthOut,
                responses={503: {"model": HealthDown, "description": "索引やモデルがない"}},
                summary="稼働状況（索引の世代、モデル、バックエンド）")
    def health() -> Any:
        try:
            generation = ctx.assistant.snapshot.name
            plans = {pid: info.city for pid, info in ctx.assistant.plans.items()}
        except environment_errors() as exc:  # a probe gets the reason (Japanese), not a traceback
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        backend = getattr(ctx.assistant, "backend", None)
        return {"status": "ok", "index_generation": generation, "embedding_model": ctx.settings.embedding_model,
                "backend": ctx.backend, "llm_model": getattr(backend, "model", None) or None, "plans": plans}

    return router
