"""Evaluation against the golden Q&A set: normalisation and pure scoring functions."""

from assistant.evaluate.normalize import contains, normalize
from assistant.evaluate.score import (
    METRIC_KEYS,
    ItemScore,
    aggregate,
    load_golden,
    score_item,
    score_run,
)

__all__ = [
    "METRIC_KEYS",
    "ItemScore",
    "aggregate",
    "contains",
    "load_golden",
    "normalize",
    "score_item",
    "score_run",
]
