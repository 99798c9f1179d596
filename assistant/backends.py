"""Answer backends behind one seam: ``extractive`` (default) or an LLM server."""

from __future__ import annotations

from assistant.settings import Settings

BACKENDS = ("extractive", "openai", "ollama")


def make_backend(name: str, settings: Settings):
    """None means the extractive composer answers alone."""
    if name == "extractive":
        return None
    if name in ("openai", "ollama"):
        from assistant.llm import LLMBackend

        return LLMBackend.from_settings(name, settings)
    raise ValueError(f"不明なバックエンドです: {name}（使えるもの: {', '.join(BACKENDS)}）")
