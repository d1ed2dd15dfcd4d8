"""Decide, from the evidence alone, whether the article answers the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.coverage import Coverage
from rag.types import Evidence

# Questions that can only be answered by a count/amount, or by a time.
_ASKS_NUMBER = re.compile(
    r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:number|percentage|share|amount)\b", re.I
)
_ASKS_TIME = re.compile(r"\bwhen\b|\bwhat\s+(?:year|month|day|date)\b|\bwhich\s+year\b", re.I)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|several|half|majority"
)
_HAS_NUMBER = re.compile(rf"\b(?!(?:19|20)\d\d\b)\d[\d,.]*\b|\b(?:{_NUMBER_WORDS})\b", re.I)
_HAS_TIME = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august|september|"
    r"october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"decade|years?|months?|weeks?|today|yesterday|ago)\b",
    re.I,
)


@dataclass(frozen=True)
class Verdict:
    """Whether to abstain, and the signals behind it."""

    abstain: bool
    similarity: float
    coverage: float
    missing: tuple[str, ...]
    reason: str
    answer_type_found: bool = True


def answer_type(question: str) -> str | None:
    """``"number"`` or ``"time"`` when the question can only be answered by one, else None."""
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_TIME.search(question):
        return "time"
    return None


def has_answer_type(text: str, kind: str | None) -> bool:
    """True when ``text`` contains something of the expected kind (or no kind is expected)."""
    if kind == "number":
        return bool(_HAS_NUMBER.search(text))
    if kind == "time":
        return bool(_HAS_TIME.search(text))
    return True


def decide(
    question: str,
    coverage: Coverage,
    evidence: list[Evidence],
    min_similarity: float,
    min_coverage: float,
) -> Verdict:
    """Abstain when the best sentence is far from the question (unless one sentence holds all
    of the question's words), when the evidence lacks too much
    of the question's rare terms, or when the question asks for a number or a time and no
    evidence sentence holds one."""
    if not evidence:
        return Verdict(True, 0.0, 0.0, coverage.missing, "nothing relevant was found", False)
    similarity = max(e.similarity for e in evidence)
    kind = answer_type(question)
    typed = any(has_answer_type(e.sentence.text, kind) for e in evidence)
    # A short question ("Who is Qin Gang?") is far from every long sentence in vector space;
    # one sentence holding all of its words is evidence enough of closeness.
    if coverage.unknown_names:
        shown = ", ".join(f"“{n}”" for n in coverage.unknown_names)
        reason = f"it never mentions {shown}"
    elif similarity < min_similarity and not coverage.one_sentence:
        reason = "nothing in it is close to the question"
    elif coverage.share < min_coverage:
        shown = ", ".join(f"“{w}”" for w in coverage.missing)
        reason = f"the closest passages never mention {shown}"
    elif not typed:
        reason = f"it gives no {kind} for this"
    else:
        return Verdict(False, similarity, coverage.share, coverage.missing, "enough evidence")
    return Verdict(True, similarity, coverage.share, coverage.missing, reason, typed)
