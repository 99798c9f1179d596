"""PlanRetriever: planqa's retrieval in a user's own LCEL chain (fake chat model)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableParallel, RunnablePassthrough

from assistant.retriever import PlanRetriever
from assistant.types import InvalidQuestion


class RecordingFake(GenericFakeChatModel):
    prompts: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append(messages)
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def _format(docs: list[Document]) -> str:
    return "\n\n".join(f"[{d.metadata['plan']}:{d.metadata['measure']}] {d.page_content}" for d in docs)


def test_lcel_chain_on_the_retriever(fake_assistant):
    retriever = PlanRetriever(assistant=fake_assistant, k=4)
    model = RecordingFake(messages=iter([AIMessage(content="2026年度の目標は76,000件です。")]), prompts=[])
    prompt = ChatPromptTemplate.from_messages([("system", "資料だけから答えてください。\n{context}"), ("human", "{question}")])
    chain = RunnableParallel(docs=retriever, question=RunnablePassthrough()).assign(
        answer=(lambda x: {"context": _format(x["docs"]), "question": x["question"]}) | prompt | model | StrOutputParser()
    )
    result = chain.invoke("大分市 No.3 の2026年度の目標は？")
    docs = result["docs"]
    assert 1 <= len(docs) <= 4 and all(isinstance(d, Document) for d in docs)
    assert (docs[0].metadata["plan"], docs[0].metadata["measure"]) == ("oita", "3")  # routed by the number
    assert docs[0].metadata["title"] == "公式アプリの機能拡充" and docs[0].metadata["field"]
    assert isinstance(docs[0].metadata["score"], float) and docs[0].page_content.startswith("大分市 No.3 公式アプリの機能拡充")
    assert result["answer"] == "2026年度の目標は76,000件です。"
    assert "[oita:3]" in model.prompts[0][0].content  # the user's own prompt got planqa's documents


def test_plan_filter_and_limits(fake_assistant):
    docs = PlanRetriever(assistant=fake_assistant, plan="nobeoka", k=3).invoke("オンライン申請の利用率は？")
    assert 1 <= len(docs) <= 3 and {d.metadata["plan"] for d in docs} == {"nobeoka"}
    per_measure = PlanRetriever(assistant=fake_assistant, k=10, chunks_per_measure=1).invoke("公式アプリの目標は？")
    keys = [(d.metadata["plan"], d.metadata["measure"], d.metadata["title"]) for d in per_measure]
    assert len(keys) == len(set(keys))


def test_bad_input_is_the_assistants_error(fake_assistant):
    with pytest.raises(InvalidQuestion, match="質問が空です"):
        PlanRetriever(assistant=fake_assistant).invoke("  ")
    with pytest.raises(InvalidQuestion, match="tokyo"):
        PlanRetriever(assistant=fake_assistant, plan="tokyo").invoke("公式アプリ")
