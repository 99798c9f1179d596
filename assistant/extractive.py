"""The default backend: compose a Japanese answer from the records, no LLM.

Each intent has a small composer that reads measure records (KPIs, actions,
goals) or section chunks and returns text plus the citations it rests on, so
every number in the answer is copied from the plan, never generated.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.query import Query
from assistant.retrieve import MeasureHit
from assistant.types import Citation
from ingest.chunk import FIELD_LABELS, Chunk, format_action, format_kpi
from ingest.records import Measure, ParsedPlan
from vectorstore.keyword import sentence_forms

QUOTE_CHARS = 120


def _quote(text: str, limit: int = QUOTE_CHARS) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sentences(text: str, limit: int) -> str:
    """Leading sentences up to about ``limit`` characters."""
    out = ""
    for sentence in re.split(r"(?<=。)", text.replace("\n", "")):
        if out and len(out) + len(sentence) > limit:
            break
        out += sentence
    return out.strip()


def reiwa(year: int) -> str:
    return f"{year}年度（令和{year - 2018}年度）"


class Composer:
    def __init__(self, plans: dict[str, ParsedPlan], chunks: dict[tuple[str, str], list[Chunk]] | None = None,
                 rarity: Callable[[str], float] | None = None):
        self.plans = plans
        self.chunks = chunks or {}  # (plan, measure) → that measure's chunks
        self.rarity = rarity  # word → IDF in the index: 鳥獣 says more than デジタル

    def name(self, m: Measure) -> str:
        return f"{self.plans[m.plan].info.measure_name(m.number)}「{m.title}」"

    def cite(self, m: Measure, field: str, quote: str) -> Citation:
        label = f"{self.plans[m.plan].info.measure_name(m.number)} {m.title}"
        return Citation(m.plan, str(m.number), m.title, field, _quote(quote), label)

    # --- measure intents -------------------------------------------------
    def kpi(self, m: Measure, years: list[int], terms: list[str] | None = None) -> tuple[str, list[Citation], list[int]]:
        """KPI text for the asked years, plus matching milestones; returns the years the plan lacks."""
        by_year: dict[int | None, list] = {}
        for k in m.kpis:
            by_year.setdefault(k.year, []).append(k)
        asked = [y for y in years if y in by_year] if years else list(by_year)
        lines, cites = [], []
        for year in asked:
            kpis = by_year[year]
            when = reiwa(year) if year else "計画期間"
            if kpis and kpis[0].year_label and m.plan != "oita":
                when = kpis[0].year_label
            items = "\n".join("・" + line.lstrip("・- ") for k in kpis for line in format_kpi(k).split("\n") if line.strip())
            lines.append(f"{when}のKPI:\n{items}")
            cites.append(self.cite(m, "kpi", " ".join(k.text for k in kpis)))
        steps = self.milestones(m, years, terms or [], need=not asked)
        if steps:
            lines.append("取組の工程表では:\n" + "\n".join(steps))
            cites.append(self.cite(m, "action", steps[0]))
        missing = [y for y in years if y not in by_year] if not steps else []
        text = f"{self.name(m)}の" + ("\n".join(lines) if lines else "KPIは計画に記載がありません。")
        return text, cites, missing

    def milestones(self, m: Measure, years: list[int], terms: list[str], need: bool) -> list[str]:
        """Milestone cells (R8…R12) of the actions the question is about."""
        keys = [f"R{y - 2018}" for y in years]
        scored = []
        for action in m.actions:
            if not action.milestones:
                continue
            overlap = sum(t in action.title + action.text for t in terms)
            cells = {k: v for k, v in action.milestones.items() if not keys or k in keys}
            if cells and (overlap >= 2 or (need and overlap >= 1)):
                scored.append((overlap, action, cells))
        scored.sort(key=lambda x: -x[0])
        return [f"・{a.title or _quote(a.text, 40)}: " + " / ".join(f"{k} {v}" for k, v in cells.items())
                for _, a, cells in scored[:2]]

    def related(self, m: Measure, terms: list[str], shown: str, question: str = "", limit: int = 2) -> list[tuple[str, str]]:
        """Sentences of the measure's chunks that share the most words with the question."""
        if not terms:
            return []
        hints = question_hints(question)
        scored = []
        for chunk in self.chunks.get((m.plan, str(m.number)), []):
            for sentence in re.split(r"(?<=。)|\n", chunk.text):
                sentence = sentence.strip(" ・")
                if len(sentence) < 8 or sentence in shown:
                    continue
                score = sentence_score(sentence, terms, hints, self.rarity)
                if score >= 2:
                    scored.append((score, sentence, chunk.field))
        scored.sort(key=lambda x: -x[0])
        out, seen = [], set()
        for _, sentence, field in scored:
            if sentence not in seen:
                seen.add(sentence)
                out.append((sentence, field))
            if len(out) == limit:
                break
        return out

    def what(self, m: Measure, terms: list[str] | None = None, question: str = "") -> tuple[str, list[Citation]]:
        body = m.overview or m.goal_state
        field = "overview" if m.overview else "goal_state"
        summary = _sentences(body, 220)
        text = f"{self.name(m)}は、{summary}" if summary else f"{self.name(m)}の施策です。"
        cites = [self.cite(m, field, summary or m.title)]
        actions = [a for a in m.actions if a.text][:4]
        if actions:
            text += "\n主な取組:\n" + "\n".join(f"・{_action_line(a)}" for a in actions)
            cites.append(self.cite(m, "action", actions[0].text))
        if m.key_projects:
            text += "\n重点事業: " + "、".join(m.key_projects)
        extra = self.related(m, terms or [], text, question)
        if extra:
            text += "\n関連する記載:\n" + "\n".join(f"・{s}" for s, _ in extra)
            cites.append(self.cite(m, extra[0][1], extra[0][0]))
        return text, cites

    def department(self, m: Measure) -> tuple[str, list[Citation]]:
        actions = [a for a in m.actions if a.text]
        if not actions:
            return self.what(m)
        if any(a.departments for a in actions):
            lines = [f"・{_action_line(a)}" for a in actions]
            text = f"{self.name(m)}の取組と担当・期間は次のとおりです。\n" + "\n".join(lines)
        else:  # plans that give no department per action: say so, list the actions and their schedule
            lines = [f"・{_action_line(a, brief=True)}" for a in actions]
            text = (f"{self.name(m)}の取組ごとの担当課は計画に書かれていません。取組と工程は次のとおりです。\n"
                    + "\n".join(lines))
        return text, [self.cite(m, "action", format_action(actions[0]))]

    def final_goal(self, m: Measure, terms: list[str] | None = None, question: str = "") -> tuple[str, list[Citation]]:
        goal = m.final_goal
        if goal is None:
            return self.what(m, terms, question)
        when = goal.target_year_text or (reiwa(goal.target_year) if goal.target_year else "")
        text = f"{self.name(m)}の最終的な目標"
        text += f"（達成見込み年度: {when}）" if when and when != "—" else ""
        text += f"は、{_sentences(goal.text, 220)}"
        return text, [self.cite(m, "final_goal", f"{when} {goal.text}")]

    def overview_with_kpi(self, m: Measure) -> tuple[str, list[Citation]]:
        """What measure No.N is: title, summary and its KPIs."""
        text, cites = self.what(m)
        kpi_text, kpi_cites, _ = self.kpi(m, [])
        if m.kpis:
            text += "\n" + kpi_text.replace(f"{self.name(m)}の", "", 1)
            cites += kpi_cites
        return text, cites

    def for_intent(self, m: Measure, query: Query, hit: MeasureHit | None = None,
                   terms: list[str] | None = None) -> tuple[str, list[Citation], list[int]]:
        intent = query.intent
        if intent == "compare" and len(query.intents) > 1:
            intent = query.intents[1]
        # 「担当と達成見込み年度は？」: two record fields asked at once get both answers.
        asked = [i for i in query.intents if i in _FIELD_INTENTS]
        if len(asked) > 1 and intent in _FIELD_INTENTS:
            parts = [self._one_intent(m, query, i, terms) for i in list(dict.fromkeys(asked))[:2]]
            name = f"{self.name(m)}の"
            text = parts[0][0] + "\n" + parts[1][0].replace(name, "", 1).replace(f"{self.name(m)}", "", 1).lstrip("はの")
            return text, parts[0][1] + parts[1][1], parts[0][2] + parts[1][2]
        return self._one_intent(m, query, intent, terms)

    def _one_intent(self, m: Measure, query: Query, intent: str,
                    terms: list[str] | None) -> tuple[str, list[Citation], list[int]]:
        if intent == "kpi":
            return self.kpi(m, query.years, terms)
        if intent == "final_goal":
            return (*self.final_goal(m, terms, query.text), [])
        if intent == "period" and not any(a.departments or a.period for a in m.actions):
            return (*self.what(m, terms, query.text), [])  # no schedule column: the sentences that date it
        if intent in ("department", "period"):
            return (*self.department(m), [])
        if query.years and m.kpis and intent not in ("what",):
            return self.kpi(m, query.years, terms)
        if query.measures and intent == "what" and not re.search(r"(何を|どう|取組|取り組み)", query.text):
            return (*self.overview_with_kpi(m), [])
        return (*self.what(m, terms, query.text), [])

    # --- sections --------------------------------------------------------
    def glossary(self, term) -> tuple[str, list[Citation]]:
        info = self.plans[term.plan].info
        text = f"{info.city}の計画の用語解説では、{term.term}は「{term.explanation}」と説明されています。"
        return text, [Citation(term.plan, None, term.term, "glossary", _quote(term.explanation), f"{info.city} 用語解説")]

    def section(self, candidates: list[Chunk], terms: list[str], question: str = "") -> tuple[str, list[Citation]]:
        """Quote the most relevant lines of the best section chunk (candidates best first)."""
        hints = question_hints(question)
        ranked = {c.id: i for i, c in enumerate(candidates)}
        chunk = max(candidates, key=lambda c: (sentence_score(c.embed_text, terms, hints) + 4 * heading_score(c.title, question)
                                               - 0.25 * min(ranked[c.id], 6) - (100 if _captions_only(c.text) else 0),
                                               -ranked[c.id]))
        lines = [ln.strip() for ln in re.split(r"\n|(?<=。)", chunk.text) if ln.strip()]
        lines = [ln for ln in lines if not _CAPTION.fullmatch(ln)] or lines
        scored = sorted(lines, key=lambda ln: -sentence_score(ln, terms, hints))[:4]
        keep = [ln for ln in lines if ln in scored]
        body = "\n".join(keep) or chunk.text
        info = self.plans[chunk.plan].info
        where = "用語解説" if chunk.field == "glossary" else chunk.title
        text = f"{info.city}の計画（{where}）には次のように書かれています。\n{body}"
        cites = [Citation(chunk.plan, None, chunk.title, chunk.field, _quote(body), f"{info.city} {where}")]
        # 「何人に送って回収率は？」 asks two kinds of fact: a kind the chosen part lacks
        # is taken from the best other part that has it.
        for hint in hints:
            if hint.search(body):
                continue
            other = next((c for c in sorted(candidates, key=lambda c: ranked[c.id])
                          if c is not chunk and c.title != chunk.title and hint.search(c.text)
                          and sentence_score(c.embed_text, terms, []) > 0), None)
            if other is None:
                continue
            line = max((ln.strip() for ln in re.split(r"\n|(?<=。)", other.text) if hint.search(ln)),
                       key=lambda ln: sentence_score(ln, terms, hints))
            text += f"\n（{other.title}）{line}"
            cites.append(Citation(other.plan, None, other.title, other.field, _quote(line), f"{info.city} {other.title}"))
            body += line
        return text, cites


_FIELD_INTENTS = ("kpi", "final_goal", "department")

# What kind of sentence answers a kind of question (when → dates, who → departments...).
QUESTION_HINTS: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"(いつ|何年|何月|時期|期間|期限)"), re.compile(r"(\d+年|\d+月|\d+日|年度|期間)")),
    (re.compile(r"(どこの課|何課|担当|部署|どこが|事務局|所管)"), re.compile(r"[一-龥ァ-ヶ]+(課|部|室|局|センター)")),
    (re.compile(r"(何%|何％|率|割合|何割)"), re.compile(r"(\d+(\.\d+)?\s*[%％]|\d割)")),
    (re.compile(r"(何人|何名)"), re.compile(r"\d[\d,]*\s*(人|名)")),
    (re.compile(r"(何件|何回|いくつ|数は|どのくらい|どれくらい|どれだけ)"), re.compile(r"\d")),
]


def question_hints(question: str) -> list[re.Pattern[str]]:
    return [answer for asks, answer in QUESTION_HINTS if asks.search(question)]


def sentence_score(sentence: str, terms: list[str], hints: list[re.Pattern[str]],
                   weight: Callable[[str], float] | None = None) -> float:
    """Question words the sentence contains (verbatim or as a normalized form, so 子ども
    meets 子供), each counted by its length or by ``weight``, plus 3 per kind of fact the
    question asks for."""
    forms = sentence_forms(sentence) if terms else frozenset()
    weigh = weight or len
    return (sum(weigh(t) for t in terms if t in sentence or t in forms)
            + sum(3 for h in hints if h.search(sentence)))


_JA_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fffー々]+")
_GENERIC_BIGRAMS = {"延岡", "岡市", "大分", "分市", "計画", "推進", "進計", "施策", "市民", "アン", "ンケ", "ケー", "ート"}


_CAPTION = re.compile(r"^\s*【(図|表)\d*】.*$", re.M)


def _captions_only(text: str) -> bool:
    """A chunk that is nothing but figure captions (「【図5】全体の所有率」) answers nothing."""
    return len(_CAPTION.sub("", text).strip()) < 10


def heading_score(title: str, question: str) -> int:
    """Shared character bigrams between the question and a section heading's last part
    (「回答率は？」→「4. 回答率」, 「いつ実施」→「2. 実施期間」)."""
    head = title.rsplit("／", 1)[-1]
    grams = {run[i:i + 2] for run in _JA_RUN.findall(question) for i in range(len(run) - 1)}
    # Unlike the keyword index's bigrams these may carry kana next to a kanji, so 「手続きを」
    # meets a heading's 「手続き」; pure-kana pairs go (「って」 would match every 「知って」).
    grams = {g for g in grams if re.search(r"[一-龥ァ-ヶ]", g)}
    latin = sum(2 for w in set(re.findall(r"[A-Za-z]{2,}", question)) if w.upper() not in ("DX", "NO") and w in head)
    return (sum(1 for g in grams - _GENERIC_BIGRAMS if g in head) + latin
            + sum(1 for h in question_hints(question) if h.search(head)))


def _action_line(action, brief: bool = False) -> str:
    """One action as a line; ``brief`` keeps the title (or the first sentence) only."""
    if brief:
        line = action.title or _sentences(action.text, 60) or _quote(action.text, 60)
    else:
        line = action.title + "：" + action.text if action.title and action.title not in action.text else action.text
    meta = []
    if action.period:
        meta.append(action.period)
    if action.departments:
        meta.append("、".join(action.departments))
    if action.milestones and not meta:
        meta.append(" / ".join(f"{k} {v}" for k, v in list(action.milestones.items())[:5] if k.startswith("R")))
    return line + (f"【{' '.join(meta)}】" if meta else "")


__all__ = ["Composer", "FIELD_LABELS", "reiwa"]
