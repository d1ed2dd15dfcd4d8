"""The short answer: the words of the quote that answer, when the question asks for a kind of
thing (a number, a date, a place, a name) and the quote names exactly one."""

from __future__ import annotations

from typing import Any

from rag.nlp import label, parse
from rag.types import AnswerQuote, Citation


def asked_entities(question: str, kind: frozenset[str], text: str) -> list[Any]:
    """The entities of ``kind`` in ``text`` that the question does not already give."""
    asked = question.lower()
    return [e for e in parse(text).ents if label(e) in kind and e.text.lower() not in asked]


def short_answer(
    question: str, kind: frozenset[str] | None, citation: Citation
) -> AnswerQuote | None:
    """The one entity of ``kind`` in the cited quote that the question does not already give,
    with its offsets in the source; None when the question asks for no kind, or the quote names
    none or several (the whole quote then stays the answer).
    """
    if kind is None:
        return None
    found = {}
    for entity in asked_entities(question, kind, citation.quote):
        found.setdefault(entity.text, entity)
    if len(found) != 1:
        return None
    entity = next(iter(found.values()))
    start = citation.start + entity.start_char
    return AnswerQuote(citation.n, citation.source, start, start + len(entity.text), entity.text)


# Determiners that make a date point back at one given before ("that same year").
_POINTING = frozenset({"that", "same", "following", "next"})


def points_back(question: str, kind: frozenset[str] | None, text: str) -> bool:
    """Whether the only dates ``text`` gives for a when-question point back at an earlier one
    ("That same year, …"), so the year is in the sentence before."""
    if kind is None or "DATE" not in kind:
        return False
    dates = asked_entities(question, kind, text)
    return bool(dates) and all(
        not any(c.isdigit() for c in e.text)
        and any(t.lower_ in _POINTING for t in e)
        and any(t.lemma_.lower() == "year" for t in e)
        for e in dates
    )
