"""Prompts as package data files, rendered strictly (a missing variable is an error)."""

from __future__ import annotations

import string
from importlib import resources


def load_prompt(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")


def render(name: str, **values: str) -> str:
    template = load_prompt(name)
    needed = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    missing = needed - values.keys()
    if missing:
        raise KeyError(f"prompt {name!r} needs {sorted(missing)}")
    return template.format(**values)
