"""Several questions asked in one message (「…は何年度まで？担当はどこの課？」), answered one
after the other, joined into one answer."""

from __future__ import annotations

from assistant.reader import Reading
from assistant.types import Answer

__all__ = ["join_readings"]


def join_readings(question: str, readings: list[Reading]) -> Reading:
    """One answer for several questions asked in one message: the leads and texts in order,
    the citations of all; refused only when every part is."""
    answers = [r.answer for r in readings]
    answered = [a for a in answers if not a.refused]
    # every part's direct answer first; a line two parts share (both answered from the same fact) once
    lead_lines = list(dict.fromkeys(line for a in answers if a.lead for line in a.lead.split("\n") if line))
    lead = "\n".join(lead_lines)
    rests = [a.text[len(a.lead):].strip() if a.lead and a.text.startswith(a.lead) else a.text for a in answers]
    rest_lines = [line for r in rests for line in r.split("\n") if line and line not in lead_lines]
    text = "\n".join([lead, *dict.fromkeys(rest_lines)])
    citations, seen = [], set()
    for a in answers:
        for c in a.citations:
            key = (c.plan, c.measure, c.field, c.quote)
            if key not in seen:
                seen.add(key)
                citations.append(c)
    first = readings[0].answer
    joined = Answer(question, text, citations, refused=not answered, retrieved=first.retrieved,
                    intent="+".join(a.intent for a in answers), lead=lead,
                    notice=" ".join(dict.fromkeys(a.notice for a in answers if a.notice)),
                    evidence=[e for a in answers for e in a.evidence])
    last = readings[-1]
    selection = next((r.selection for r in readings if r.selection is not None and not r.answer.refused), None)
    return Reading(last.question, joined, selection, last.focus)
