"""planqa's retrieval as a LangChain retriever, for use in anyone's own LCEL chain.

``PlanRetriever(assistant=build_assistant(settings))`` returns the chunks of the
best-ranked measures and sections as ``Document``s: the same Japanese hybrid
search, measure-number routing (「大分市 No.3」) and ranking the assistant uses.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field


class PlanRetriever(BaseRetriever):
    """``invoke(question)`` → ``Document``s (page_content = chunk header and text;
    metadata = plan, measure, field, title, score), best measure first."""

    assistant: Any = Field(description="an assistant.service.Assistant (build_assistant(settings))")
    plan: str | None = Field(None, description="only this plan (oita / nobeoka); None = every plan")
    k: int = Field(6, ge=1, description="at most this many documents")
    chunks_per_measure: int = Field(3, ge=1, description="at most this many chunks of one measure or section")

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        documents: list[Document] = []
        for ranked in self.assistant.search(query, plan=self.plan):
            chunks = [hit.chunk for hit in ranked.hits]
            if not chunks and ranked.measure is not None:  # routed by number but not retrieved: its own chunks
                chunks = [c for c in self.assistant.snapshot.chunks
                          if c.plan == ranked.plan and c.measure == ranked.measure]
            for chunk in chunks[: self.chunks_per_measure]:
                documents.append(Document(
                    id=chunk.id,
                    page_content=chunk.embed_text,
                    metadata={"plan": chunk.plan, "measure": chunk.measure, "field": chunk.field,
                              "title": chunk.title, "score": round(ranked.score, 5)},
                ))
                if len(documents) >= self.k:
                    return documents
        return documents
