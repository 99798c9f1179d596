"""``planqa batch``: one answer line per question line, in order; model loaded once."""

from __future__ import annotations

import json
from pathlib import Path

from tqdm.auto import tqdm

from assistant.conversation import Conversation
from assistant.types import Answer, InvalidQuestion


def answer_record(item_id, question: str, answer: Answer | None, error: str = "") -> dict:
    if answer is None:
        return {"id": item_id, "question": question, "answer": error, "refused": True, "citations": [],
                "retrieved": [], "latency_ms": 0.0, "error": error}
    return {
        "id": item_id,
        "question": question,
        "answer": answer.text,
        "refused": answer.refused,
        "citations": [{"plan": c.plan, "measure": c.measure, "title": c.title, "field": c.field, "quote": c.quote}
                      for c in answer.citations],
        "retrieved": [{"plan": r.plan, "measure": r.measure, "score": r.score} for r in answer.retrieved],
        "latency_ms": answer.latency_ms,
    }


def read_questions(path: Path) -> list[dict]:
    if not path.is_file():
        raise InvalidQuestion(f"入力ファイルが見つかりません: {path}")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InvalidQuestion(f"{path} の {n} 行目が JSON として読めません: {exc}") from exc
        if not isinstance(obj, dict) or "id" not in obj or "question" not in obj:
            raise InvalidQuestion(f"{path} の {n} 行目に id と question が必要です。")
        items.append(obj)
    return items


def conversations_for(items):
    """Pairs (item, conversation): lines that share a ``"conversation"`` value are one
    dialogue, answered in file order, each turn seeing the earlier ones; other lines
    get None (a fresh question)."""
    open_: dict[str, Conversation] = {}
    for item in items:
        key = item.get("conversation") if isinstance(item, dict) else None
        if key is None or key == "":
            yield item, None
        else:
            yield item, open_.setdefault(str(key), Conversation())


def answer_all(assistant, items: list[dict], progress: bool = False, on_item=None) -> list[dict]:
    out = []
    pairs = list(conversations_for(items))
    for item, conversation in tqdm(pairs, desc="回答中", unit="問", disable=not progress):
        try:
            answer = assistant.ask(item["question"], plan=item.get("plan_scope"), conversation=conversation)
            out.append(answer_record(item["id"], item["question"], answer))
        except InvalidQuestion as exc:
            out.append(answer_record(item["id"], item["question"], None, str(exc)))
        if on_item:
            on_item(len(out), len(items))
    return out


def run_batch(assistant, input_path: Path, output_path: Path, progress: bool = True) -> int:
    items = read_questions(input_path)
    assistant.warm_up()
    records = answer_all(assistant, items, progress)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(records)
