"""Run the assistant over the golden set and score it; compare retrieval set-ups.

:func:`run_eval` asks every golden question exactly as a user would (no plan
scope: the question must name its plan itself), turns the answers into batch
records (:func:`assistant.batch.answer_record`) and scores them with
:func:`assistant.evaluate.score.score_run`.

:func:`run_compare` does the same for several set-ups ("modes") that share one
embeddings object, so the model loads once:

=========  =====================================================================
ours       the assistant as shipped (hybrid retrieval)
dense      the assistant with dense-only retrieval
keyword    the assistant with BM25-only retrieval
naive      the LangChain baseline of :mod:`assistant.evaluate.naive`
=========  =====================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from assistant.batch import answer_record
from assistant.evaluate.score import score_run
from assistant.types import InvalidQuestion

__all__ = ["MODES", "build_mode", "item_reasons", "parse_modes", "run_compare", "run_eval"]

log = logging.getLogger("planqa")

MODES = ("ours", "dense", "keyword", "naive")
RETRIEVAL_MODES = {"ours": "hybrid", "dense": "dense", "keyword": "keyword"}

Progress = Callable[[int, int], None]


def parse_modes(text: str | Iterable[str] | None) -> list[str]:
    """``"ours, naive"`` → ``["ours", "naive"]``; ValueError (Japanese) on an unknown mode."""
    if text is None:
        return ["ours"]
    parts = text.split(",") if isinstance(text, str) else list(text)
    modes = list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise ValueError(f"不明な比較構成です: {', '.join(unknown)}（使えるもの: {', '.join(MODES)}）")
    if not modes:
        raise ValueError(f"比較する構成を指定してください（使えるもの: {', '.join(MODES)}）")
    return modes


def build_mode(settings, mode: str, embeddings=None, backend: str | None = None):
    """The assistant (or baseline) for one mode; everything heavy loads lazily."""
    if mode == "naive":
        from assistant.evaluate.naive import NaiveAssistant

        return NaiveAssistant(settings, embeddings)
    if mode not in RETRIEVAL_MODES:
        raise ValueError(f"不明な比較構成です: {mode}（使えるもの: {', '.join(MODES)}）")
    from assistant.service import build_assistant

    return build_assistant(settings, backend, retrieval_mode=RETRIEVAL_MODES[mode], embeddings=embeddings)


def _answer_one(assistant, item: Mapping[str, Any], conversation=None) -> dict[str, Any]:
    """One batch record; an engine error becomes a failed record instead of ending the run.
    ``conversation`` carries the earlier turns of a dialogue item."""
    from vectorstore.model_files import ModelError
    from vectorstore.store import IndexError_

    item_id, question = item.get("id"), str(item.get("question", ""))
    try:
        answer = assistant.ask(question, plan=None, conversation=conversation)  # golden "plan" is a label, never a scope
    except InvalidQuestion as exc:
        return answer_record(item_id, question, None, str(exc))
    except (IndexError_, ModelError):
        raise  # the environment is broken: every item would fail the same way
    except Exception as exc:  # noqa: BLE001 - one broken answer must not end a long run
        log.exception("評価中にエラー（%s）", item_id)
        return {**answer_record(item_id, question, None, f"{type(exc).__name__}: {exc}"), "exception": True}
    return answer_record(item_id, question, answer)


def item_reasons(score: Mapping[str, Any], output: Mapping[str, Any] | None) -> list[str]:
    """Short, greppable failure reasons: ``not cited: oita:3``, ``missing: 76,000``, ``refused``."""
    if score.get("passed"):
        return []
    reasons: list[str] = []
    if not output:
        reasons.append("no output")
    elif output.get("error"):
        reasons.append(f"error: {output['error']}")
    if score.get("answerable", True):
        if score.get("refused"):
            reasons.append("refused")
        cited = set(score.get("cited") or [])
        reasons += [f"not cited: {key}" for key in score.get("expected") or [] if key not in cited]
        reasons += [f"missing: {fact}" for fact in score.get("missing_facts") or []]
    elif not score.get("refused"):
        reasons.append("not refused")
    return reasons


def _summary(scored: Mapping[str, Any]) -> dict[str, Any]:
    """``{"overall", "by_type"}`` whether score_run nests it under "summary" or not."""
    summary = scored.get("summary", scored)
    return {"overall": summary["overall"], "by_type": summary["by_type"]}


def run_eval(assistant, items: list[Mapping[str, Any]], progress: Progress | None = None) -> dict[str, Any]:
    """Ask every golden question, score the answers.

    Returns ``{"metrics": {"overall", "by_type"}, "items": [row, ...]}``; a row has
    id, type, question, answer, citations, refused, passed, reasons and, for the
    report, expected, cited, retrieved, latency_ms, exception (the engine raised).
    ``progress(done, total)`` is called after each item.
    """
    warm_up = getattr(assistant, "warm_up", None)
    if callable(warm_up):
        warm_up()  # model load and index open must not count as the first item's latency
    from assistant.batch import conversations_for

    outputs: list[dict[str, Any]] = []
    for item, conversation in conversations_for(items):
        outputs.append(_answer_one(assistant, item, conversation))
        if progress:
            progress(len(outputs), len(items))
    scored = score_run(items, outputs)
    rows = []
    for item, output, score in zip(items, outputs, scored["items"], strict=True):
        rows.append(
            {
                "id": score["id"],
                "type": score["type"],
                "question": item.get("question", ""),
                "answer": output.get("answer", ""),
                "citations": output.get("citations", []),
                "refused": bool(output.get("refused")),
                "passed": bool(score["passed"]),
                "reasons": item_reasons(score, output),
                "expected": score["expected"],
                "cited": score["cited"],
                "retrieved": output.get("retrieved", []),
                "latency_ms": output.get("latency_ms"),
                "exception": bool(output.get("exception")),
            }
        )
    return {"metrics": _summary(scored), "items": rows}


def run_compare(
    settings,
    items: list[Mapping[str, Any]],
    modes: Iterable[str],
    progress: Callable[[str, int, int], None] | None = None,
    backend: str | None = None,
    embeddings=None,
) -> dict[str, dict[str, Any]]:
    """``{mode: run_eval result}`` for each mode, in order, sharing one embeddings object.

    Modes run one after the other (never in parallel) so latencies stay comparable.
    ``progress(mode, done, total)`` is called after each item.
    """
    modes = parse_modes(list(modes))
    if embeddings is None:
        from ingest.pipeline import build_embeddings

        embeddings = build_embeddings(settings)  # constructing loads nothing; the first mode loads it
    results: dict[str, dict[str, Any]] = {}
    for mode in modes:
        assistant = build_mode(settings, mode, embeddings=embeddings, backend=backend)
        report: Progress | None = None
        if progress:

            def report(done: int, total: int, _mode: str = mode) -> None:
                progress(_mode, done, total)

        results[mode] = run_eval(assistant, items, report)
    return results
