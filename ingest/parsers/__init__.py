"""Plan parsers, picked by the manifest's ``parser`` name.

Each parser is a module with ``parse(text: str, info: PlanInfo) -> ParsedPlan``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ingest.records import ParsedPlan, PlanInfo

Parser = Callable[[str, PlanInfo], ParsedPlan]

PARSERS: dict[str, str] = {
    "oita": "ingest.parsers.oita",
    "nobeoka": "ingest.parsers.nobeoka",
    "generic": "ingest.parsers.generic",
}


def get_parser(name: str) -> Parser:
    if name not in PARSERS:
        known = ", ".join(sorted(PARSERS))
        raise ValueError(f"不明なパーサー名です: {name}（使えるもの: {known}）")
    return importlib.import_module(PARSERS[name]).parse
