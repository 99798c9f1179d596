"""Plan text as sentences: PDF line wraps undone, sentences split (a long one at a comma,
keeping the clause before the cut), short lines carried as sub-headings, short enumerated
items kept together with their heading."""

from __future__ import annotations

import re

__all__ = ["MAX_FACT_CHARS", "pieces"]

MAX_FACT_CHARS = 260
OVERLAP_CHARS = 40  # a long sentence split at a comma repeats at most this much of the clause before the cut
_HEADING_CHARS = 24  # a short line without a full stop heads the lines that follow it
_ENUM = re.compile(r"^([①-⑳]|[（(]\d{1,2}[)）]|\d{1,2}[.．)）]\s|[・●◎○■◆-]\s*)")
_BRACKET_HEAD = re.compile(r"^【[^】]{1,30}】$")
_TOC = re.compile(r"[（(]\d+\s*(?:[～~〜-]\s*\d+)?\s*ページ[）)]$")
LIST_ITEM_CHARS = 40  # enumerated items this short are one fact together with their heading


def pieces(text: str) -> list[tuple[str, str]]:
    """(heading, sentence) pairs: lines split at sentence ends; a short line without a
    full stop (「紙中心の申請」「【対象税目】」), or one short numbered line before prose
    (「①郵送調査の実施」), is a sub-heading carried into the next pieces' context; a run of short enumerated items (① 固定資産税 ② …) is one fact with its heading;
    table-of-contents lines (「3. 実施期間（5ページ）」) are no facts."""
    out: list[tuple[str, str]] = []
    heading = ""
    items: list[str] = []

    def flush() -> None:
        if items:
            out.append((heading, (f"{heading} " if heading else "") + " ".join(items)))
            items.clear()

    for line in _join_wrapped(text.split("\n")):
        if not line or _TOC.search(line):
            continue
        if _BRACKET_HEAD.match(line) or (len(line) <= _HEADING_CHARS and not re.search(r"[。．！？:：\d%％]", line)
                                         and not _ENUM.match(line)):
            flush()
            heading = line
            if not _BRACKET_HEAD.match(line):  # a plain heading is a line of the plan too (a vision phrase)
                out.append(("", line))
            continue
        if _ENUM.match(line) and len(line) <= LIST_ITEM_CHARS and "。" not in line[:-1]:
            items.append(line)
            continue
        if (len(items) == 1 and len(items[0]) <= _HEADING_CHARS and re.match(r"[①-⑳]", items[0])
                and not _ENUM.match(line) and not re.search(r"[。．！？:：\d%％]", items[0][1:])):
            # one short numbered line before prose heads it (「①郵送調査の実施」, then 〈調査対象〉…)
            heading = items.pop()
            out.append(("", heading))
        flush()
        for sentence in _sentences(line):
            out.append((heading, sentence))
    flush()
    return out


def _join_wrapped(lines: list[str]) -> list[str]:
    """Undo the PDF's line wraps: a long line that stops mid-sentence continues on the next
    line (「…「延岡市DX戦略推進本部」」+「（以下、「本部」という。）を設置し…」)."""
    out: list[str] = []
    for raw in lines:
        line = raw.strip()
        prev = out[-1] if out else ""
        if (line and prev and len(prev) > _HEADING_CHARS and not re.search(r"[。．！？!?:：]$", prev)
                and not _ENUM.match(line) and not _BRACKET_HEAD.match(line) and not _ENUM.match(prev)
                and not re.search(r"\d\s*$", prev) and not any(t in prev or t in line for t in ("\t", "｜"))):
            out[-1] = prev + line
        else:
            out.append(line)
    return out


def _sentences(line: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[。！？])(?![）)」』])", line) if p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and (len(part) < 8 or re.match(r"^[）)」』]", part)):
            merged[-1] += part
        else:
            merged.append(part)
    out = []
    for part in merged:
        while len(part) > MAX_FACT_CHARS:
            cut = max(part.rfind("、", 0, MAX_FACT_CHARS), part.rfind("。", 0, MAX_FACT_CHARS))
            cut = cut + 1 if cut > MAX_FACT_CHARS // 3 else MAX_FACT_CHARS
            out.append(part[:cut].strip())
            # the next piece starts with the clause before the cut, so it keeps its subject
            # (「担当副市長（CIO）が中心となって、」+「全体プロジェクトの進捗管理…を行います。」)
            lead = part.rfind("、", 0, cut - 1) + 1
            keep = lead if part[cut - 1] == "、" and 0 < cut - lead <= OVERLAP_CHARS else cut
            part = part[keep:].strip()
        if part:
            out.append(part)
    return out
