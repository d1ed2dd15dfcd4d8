"""Decide, from the evidence alone, whether the article answers the question."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rag.nlp import AMOUNT, PEOPLE, PERSON, PLACE, REGION, TIME, holds_kind, names_a_person
from rag.text import years
from rag.types import Evidence

_KIND_NAMES = {
    PERSON: "name",
    PEOPLE: "name",
    PLACE: "place",
    REGION: "place",
    TIME: "date or time",
    AMOUNT: "number",
}


@dataclass(frozen=True)
class Verdict:
    """Whether to abstain, and the signals behind it."""

    abstain: bool
    similarity: float
    reason: str
    kind_found: bool = True


def decide(
    question: str,
    evidence: list[Evidence],
    lead: list[str],
    unknown_names: tuple[str, ...],
    kind: frozenset[str] | None,
    min_similarity: float,
    context: str = "",
    is_person: Callable[[str], bool] | None = None,
) -> Verdict:
    """Abstain when the question names something the corpus never mentions, when the best
    sentence is far from the question, when the question asks for a kind of thing (a
    person, a place, a date, a number) that the sentences the answer rests on (``lead``) do
    not name, or when it dates what it asks by a year that the paragraphs of those sentences
    (``context``) never give.

    Args:
        question: The question's asking part (no preamble or instructions).
        evidence: Scored sentences, best first.
        lead: Texts of the quotes the answer is built from.
        unknown_names: Names in the question that the corpus never uses.
        kind: Entity labels the question asks for, or None.
        min_similarity: Below this best MiniLM cosine the bot abstains.
        context: The paragraphs of ``lead``; empty for no year check.
        is_person: Whether a word names a person somewhere in the corpus; a person the
            small model missed in ``lead`` then counts for a question asking for one.
    """
    if not evidence:
        return Verdict(True, 0.0, "nothing relevant was found", False)
    similarity = max(e.similarity for e in evidence)
    found = holds_kind(lead, kind, question) or (
        kind is not None
        and "PERSON" in kind
        and is_person is not None
        and names_a_person(lead, question, is_person)
    )
    undated = undated_years(question, context) if context else []
    if unknown_names:
        shown = ", ".join(f"“{n}”" for n in unknown_names)
        reason = f"it never mentions {shown}"
    elif similarity < min_similarity:
        reason = "nothing in it is close to the question"

    elif not found:
        reason = f"it gives no {_KIND_NAMES.get(kind, 'answer of the kind asked')} for this"
    elif undated:
        reason = f"the passages closest to the question never mention {undated[0]}"
    else:
        return Verdict(False, similarity, "enough evidence")
    return Verdict(True, similarity, reason, found)


def undated_years(question: str, context: str) -> list[int]:
    """The years ``question`` names that ``context`` never does: "How many died in 2019?"
    is not answered by a paragraph about last year."""
    given = set(years(context))
    return [y for y in dict.fromkeys(years(question)) if y not in given]
