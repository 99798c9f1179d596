"""Answer backends behind one seam: ``extractive`` (default) or an LLM server."""

from __future__ import annotations

from assistant.settings import Settings

BACKENDS = ("extractive", "openai", "ollama")


class BackendError(ValueError):
    """An unknown backend or a missing LLM setting (Japanese message, says what to set)."""


def make_backend(name: str, settings: Settings):
    """None means the extractive composer answers alone."""
    if name == "extractive":
        return None
    if name in ("openai", "ollama"):
        from assistant.llm import LLMBackend

        return LLMBackend.from_settings(name, settings)
    raise BackendError(f"不明なバックエンドです: {name}（使えるもの: {', '.join(BACKENDS)}）")
