"""Which runtime embeds: ONNX Runtime for the default model, PyTorch for any other.

Kept apart from :mod:`vectorstore.embeddings` (which imports LangChain) so a
fresh ``planqa ask`` can start opening the ONNX session before anything else
is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vectorstore.model_files import DEFAULT_MODEL, ModelError

if TYPE_CHECKING:
    from assistant.settings import Settings

RUNTIMES = ("auto", "onnx", "torch")


def runtime_for(settings: Settings) -> str:
    """``onnx`` for the default model (unless set to ``torch``); other models run on PyTorch."""
    if settings.embedding_runtime not in RUNTIMES:
        raise ModelError(f"不明な埋め込みランタイムです: {settings.embedding_runtime}（使えるもの: {', '.join(RUNTIMES)}）")
    if settings.embedding_model != DEFAULT_MODEL:
        return "torch"
    from vectorstore.onnx_export import PRECISIONS

    if settings.embedding_precision not in PRECISIONS:
        raise ModelError(f"不明な埋め込みの精度です: {settings.embedding_precision}（使えるもの: {', '.join(PRECISIONS)}）")
    return "torch" if settings.embedding_runtime == "torch" else "onnx"


def runtime_note(settings: Settings) -> str:
    """One line for ``planqa settings``: which runtime embeds, and what that costs."""
    try:
        runtime = runtime_for(settings)
    except ModelError as exc:
        return str(exc)
    if runtime == "onnx":
        return (f"埋め込みは ONNX Runtime で計算します（既定モデルの ONNX 版、{settings.embedding_precision}。"
                "PyTorch を読み込まないので起動が速い）。")
    if settings.embedding_model != DEFAULT_MODEL:
        return (
            f"埋め込みモデル {settings.embedding_model} は PyTorch（sentence-transformers）で動きます。"
            "ONNX 版は既定モデルにだけ用意されるため、起動と質問ごとの埋め込みが遅くなります（起動に 10 秒前後）。"
        )
    return "埋め込みは PyTorch で計算します（PLANQA_EMBEDDING_RUNTIME=torch）。起動に 10 秒前後かかります。"


def open_onnx(model_dir, max_length: int, threads: int = 0, background: bool = False, precision: str = "float32"):
    """The ONNX encoder of the default model (verified by hash first); with
    ``background`` only start opening it and return None."""
    from vectorstore.onnx_encoder import open_encoder, open_in_background
    from vectorstore.onnx_export import check_onnx, onnx_path

    def check() -> None:
        status = check_onnx(model_dir, precision=precision)
        if not status.ok:
            raise ModelError(status.message)

    if background:
        open_in_background(onnx_path(model_dir, precision), max_length, threads, check)
        return None
    return open_encoder(onnx_path(model_dir, precision), max_length, threads, check)


def prefetch(settings: Settings) -> None:
    """Start opening the query encoder when the configured runtime is ONNX."""
    try:
        if runtime_for(settings) == "onnx":
            open_onnx(settings.model_dir, settings.embedding_max_seq_length, background=True,
                      precision=settings.embedding_precision)
    except ModelError:
        pass  # reported with its message at the first use
