"""Decide, from the evidence alone, whether the article answers the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.condense import question_names
from rag.coverage import Coverage, acronyms
from rag.text import name_forms, words
from rag.types import Evidence

# Questions that can only be answered by a count/amount, or by a time.
_ASKS_NUMBER = re.compile(
    r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:number|percentage|share|amount)\b", re.I
)
_ASKS_DURATION = re.compile(r"\bhow\s+long\b", re.I)
_ASKS_PLACE = re.compile(
    r"^\W*where\b|\b(?:which|what)\s+(?:\w+\s+)?(?:city|cities|country|countries|province|"
    r"state|town|capital|region|place|nation)\b",
    re.I,
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
_UNITS = r"(?:years?|months?|weeks?|days?|hours?|decades?)"
_HAS_DURATION = re.compile(
    rf"\b(?:\d[\d,.]*|{_NUMBER_WORDS}|a|an|few|several)\s+(?:\w+\s+)?{_UNITS}\b|\bdecades?\b",
    re.I,
)
_INITIALS = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z]{2,}\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CALENDAR = frozenset(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)
_CAPITALISED = re.compile(r"(?<![.!?“\"]\s)(?<!^)\b[A-Z][\w’'.-]*")


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
    """``"duration"``, ``"number"``, ``"place"`` or ``"time"`` when the question can only be
    answered by one, else None."""
    if _ASKS_DURATION.search(question):
        return "duration"
    if _ASKS_PLACE.search(question):
        return "place"
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_TIME.search(question):
        return "time"
    return None


def has_answer_type(text: str, kind: str | None, question: str = "") -> bool:
    """True when ``text`` contains something of the expected kind (or no kind is expected).

    A place is a capitalised word, not opening a sentence, that the question does not use and
    that is not a month or a day: "In which city was the summit held?" is not answered by a
    sentence whose only names are the summit's presidents.
    """
    if kind == "duration":
        return bool(_HAS_DURATION.search(text))
    if kind == "place":
        asked = set(words(question))
        for match in _CAPITALISED.finditer(text):
            found = words(match.group(0))
            if found and not asked.issuperset(found) and not _CALENDAR.issuperset(found):
                return True
        return False
    if kind == "number":
        return bool(_HAS_NUMBER.search(text))
    if kind == "time":
        return bool(_HAS_TIME.search(text))
    return True


def names_held(text: str, question: str) -> bool:
    """Whether ``text`` holds, for each name the question gives, one of its words, a demonym of
    one ("Chinese" ~ "China"), or its initials ("United States" ~ "U.S."): "How many died in
    China?" is not answered by a U.S. figure."""
    held = {part for w in words(text) for part in w.split("-")}
    held |= {f for w in held for f in name_forms(w)}
    held |= {a.lower() for a in acronyms([text])}
    held |= {m.replace(".", "").lower() for m in _INITIALS.findall(text)}
    for name in question_names(question):
        parts = [p for w in words(name) for p in w.split("-")]
        parts = [p for p in parts if len(p) > 1] or parts
        initials = "".join(w[0] for w in name.split() if w[:1].isupper()).lower()
        if parts and initials not in held and all(name_forms(p).isdisjoint(held) for p in parts):
            return False
    return True


def fits(text: str, kind: str | None, question: str) -> bool:
    """Whether a sentence can answer a typed question: it holds the kind of answer asked for,
    the years the question gives, and the question's names. Untyped questions always fit."""
    if kind is None:
        return True
    years = set(_YEAR.findall(question))
    return (
        has_answer_type(text, kind, question)
        and years <= set(_YEAR.findall(text))
        and names_held(text, question)
    )


def typed_first(question: str, evidence: list[Evidence], margin: float) -> list[Evidence]:
    """``evidence`` with the best sentence holding the asked-for kind of answer moved to the
    front, when it scores within ``margin`` of the best: the answer is built from the first
    sentence, so a "how many" answer should be the sentence with the number. Years and names
    are left to :func:`decide`, which judges that sentence alone."""
    kind = answer_type(question)
    if kind is None or not evidence or has_answer_type(evidence[0].sentence.text, kind, question):
        return evidence
    for i, e in enumerate(evidence):
        if e.score >= evidence[0].score - margin and has_answer_type(
            e.sentence.text, kind, question
        ):
            return [e, *evidence[:i], *evidence[i + 1 :]]
    return evidence


def decide(
    question: str,
    coverage: Coverage,
    evidence: list[Evidence],
    min_similarity: float,
    min_coverage: float,
) -> Verdict:
    """Abstain when the best sentence is far from the question (unless one sentence holds all
    of the question's words), when the evidence lacks too much
    of the question's rare terms, or when the question asks for a number, a time, a duration
    or a place and the sentence the answer is built from (the first) holds none."""
    if not evidence:
        return Verdict(True, 0.0, 0.0, coverage.missing, "nothing relevant was found", False)
    similarity = max(e.similarity for e in evidence)
    kind = answer_type(question)
    typed = fits(evidence[0].sentence.text, kind, question)
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
