"""Decide, from the evidence alone, whether the article answers the question."""

from __future__ import annotations

from dataclasses import dataclass

from rag.evidence import weighted_coverage
from rag.types import Evidence


@dataclass(frozen=True)
class Verdict:
    """Whether to abstain, and the signals behind it."""

    abstain: bool
    similarity: float
    coverage: float
    missing: tuple[str, ...]
    reason: str


def decide(
    query_terms: list[str],
    evidence: list[Evidence],
    sentence_terms: list[set[str]],
    idf: dict[str, float],
    unseen: float,
    min_similarity: float,
    min_coverage: float,
) -> Verdict:
    """Abstain when the best sentence is too far from the question, or when the evidence lacks
    too many of the question's key terms (weighted by how rare they are in the corpus)."""
    if not evidence:
        return Verdict(True, 0.0, 0.0, tuple(query_terms), "nothing retrieved")
    found = set().union(*(sentence_terms[e.sentence.id] for e in evidence))
    coverage = weighted_coverage(query_terms, found, idf, unseen)
    missing = tuple(sorted({t for t in query_terms if t not in found}))
    similarity = max(e.similarity for e in evidence)
    if similarity < min_similarity:
        return Verdict(True, similarity, coverage, missing, "no sentence is close to the question")
    if coverage < min_coverage:
        return Verdict(
            True, similarity, coverage, missing, f"the article never mentions {', '.join(missing)}"
        )
    return Verdict(False, similarity, coverage, missing, "enough evidence")
