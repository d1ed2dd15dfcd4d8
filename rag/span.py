"""The short answer: the words of the quote that answer, when the question asks for a kind of
thing (a number, a date, a place, a name) and the quote names exactly one."""

from __future__ import annotations

from rag.nlp import label, parse
from rag.types import AnswerQuote, Citation


def short_answer(
    question: str, kind: frozenset[str] | None, citation: Citation
) -> AnswerQuote | None:
    """The one entity of ``kind`` in the cited quote that the question does not already give,
    with its offsets in the source; None when the question asks for no kind, or the quote names
    none or several (the whole quote then stays the answer).
    """
    if kind is None:
        return None
    asked = question.lower()
    found = {}
    for entity in parse(citation.quote).ents:
        if label(entity) in kind and entity.text.lower() not in asked:
            found.setdefault(entity.text, entity)
    if len(found) != 1:
        return None
    entity = next(iter(found.values()))
    start = citation.start + entity.start_char
    return AnswerQuote(citation.n, citation.source, start, start + len(entity.text), entity.text)
