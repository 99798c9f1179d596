"""One server for everything: the JSON API (``/api/*``), the OpenAI-compatible
API (``/v1/*``), the OpenAPI document (``/openapi.json``, docs at ``/api/docs``)
and the Gradio UI mounted at ``/`` (its ``/ask`` endpoint included).

Errors are JSON with a Japanese message, never a traceback: 400 bad input,
401 missing or wrong bearer token (when ``PLANQA_API_TOKEN`` is set), 404
unknown measure or model, 413 too large a body, 422 malformed request, 503 index
or model missing or the server busy. ``/v1/*`` errors use OpenAI's shape
(``{"error": {"message", "type", "code"}}``); ``/api/*`` errors are ``{"error": message}``.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.settings import Settings, load_settings
from assistant.types import InvalidQuestion
from ui.api_context import ApiContext, ApiError, ConversationStore, Gate, environment_errors
from ui.openai_api import openai_router
from ui.rest_api import rest_router

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
INTERNAL_ERROR = "回答の作成中にエラーが発生しました。時間をおいてもう一度お試しください。"
BAD_TOKEN = "API トークンがないか、違います（Authorization: Bearer <PLANQA_API_TOKEN>）。"
BAD_JSON = "リクエストの本文を JSON として読めません。"
_HTTP_MESSAGES = {
    400: BAD_JSON,  # FastAPI's "error parsing the body" (e.g. not UTF-8)
    404: "そのパスはありません（API の説明: /api/docs）。",
    405: "このパスではそのメソッドは使えません（API の説明: /api/docs）。",
}
_FIELD_PROBLEMS = {
    "missing": "がありません",
    "string_type": "は文字列で指定してください",
    "bool_type": "は true / false で指定してください",
    "bool_parsing": "は true / false で指定してください",
    "int_parsing": "は整数で指定してください",
    "int_type": "は整数で指定してください",
    "list_type": "は配列で指定してください",
    "too_short": "が空です",
    "string_pattern_mismatch": "の形式が正しくありません",
    "model_attributes_type": "は JSON オブジェクトで指定してください",
    "dict_type": "は JSON オブジェクトで指定してください",
}


def _validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, BAD_JSON
    problems = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")) or "本文"
        problems.append(f"{where} {_FIELD_PROBLEMS.get(e.get('type', ''), 'の値が正しくありません')}")
    return 422, "リクエストの形式が正しくありません: " + "、".join(dict.fromkeys(problems)) + "。"


def _error_response(request: Request, status: int, message: str, code: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if request.url.path.startswith("/v1/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        body: dict[str, Any] = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    else:
        body = {"error": message}
    return JSONResponse(body, status_code=status, headers=headers)


def build_server(assistant, settings: Settings, ui=None) -> FastAPI:
    """The FastAPI app around ``assistant``; ``ui`` (a gr.Blocks) is mounted at ``/`` when given."""
    ctx = ApiContext(assistant, settings, Gate(settings.concurrency), ConversationStore())
    app = FastAPI(
        title="planqa API",
        version="1",
        description="自治体DX計画（大分市・延岡市）に日本語で答え、根拠の施策番号を示す API。"
                    "`/v1/chat/completions` は OpenAI 互換です。",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    bearer = HTTPBearer(auto_error=False, description="PLANQA_API_TOKEN を設定したときだけ必要")
    token = settings.api_token.get_secret_value() if settings.api_token else ""

    # Depends() as a default: an Annotated[...] hint could not see the local ``bearer``
    # (annotations are strings here and FastAPI resolves them in the module's globals).
    def auth(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:  # noqa: B008
        if not token:
            return
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(401, BAD_TOKEN, "invalid_api_key")

    app.include_router(rest_router(ctx, auth))
    app.include_router(openai_router(ctx, auth))

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length", "")
        if request.url.path.startswith(("/api/", "/v1/")) and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return _error_response(request, 413, f"リクエストが大きすぎます（{MAX_BODY_BYTES // 1024} KB まで）。",
                                   "too_large")
        return await call_next(request)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(request, exc.status, exc.message, exc.code)

    @app.exception_handler(InvalidQuestion)
    async def invalid_question(request: Request, exc: InvalidQuestion) -> JSONResponse:
        return _error_response(request, 400, str(exc), "invalid_question")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _HTTP_MESSAGES.get(exc.status_code, "リクエストを処理できませんでした。")
        return _error_response(request, exc.status_code, message, "http_error")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message = _validation_message(exc)
        return _error_response(request, status, message, "invalid_json" if status == 400 else "invalid_request")

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        return _error_response(request, 503, str(exc), "unavailable")

    for error in environment_errors():
        app.add_exception_handler(error, unavailable)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("API request failed: %s %s", request.method, request.url.path)
        return _error_response(request, 500, INTERNAL_ERROR, "internal_error")

    app.state.planqa = ctx
    if ui is not None:
        import gradio as gr

        from ui.app import launch_options

        app = gr.mount_gradio_app(app, ui, path="/", **launch_options(settings))
    return app


def serve(settings: Settings | None = None, assistant=None) -> None:
    """Build the real assistant (unless given), then serve API and UI on one port until interrupted."""
    import uvicorn

    from ui.app import build_app

    settings = settings or load_settings()
    if assistant is None:
        from assistant.service import build_assistant

        assistant = build_assistant(settings)
    warm_up = getattr(assistant, "warm_up", None)
    if callable(warm_up):  # load the model and index now, not on the first question
        logger.info("モデルと索引を読み込んでいます…")
        warm_up()
    app = build_server(assistant, settings, build_app(assistant, settings))
    logger.info("UI と API を http://%s:%s で公開します（API の説明: /api/docs）", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
