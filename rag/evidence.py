"""Score the sentences of retrieved passages against the question and keep a diverse few."""

from __future__ import annotations

import numpy as np

from index.store import StoredIndex
from rag.types import Evidence, Passage

# How much the share of the question's terms found in a sentence adds to its cosine.
LEXICAL_WEIGHT = 0.3
# Two evidence sentences closer than this say the same thing; keep the better one.
REDUNDANT_COSINE = 0.92


def weighted_coverage(
    query_terms: list[str], found: set[str], idf: dict[str, float], unseen: float
) -> float:
    """IDF-weighted share of ``query_terms`` present in ``found`` (1.0 for no terms)."""
    unique = set(query_terms)
    if not unique:
        return 1.0
    total = sum(idf.get(t, unseen) for t in unique)
    return sum(idf.get(t, unseen) for t in unique if t in found) / total


def select_evidence(
    index: StoredIndex,
    sentence_terms: list[set[str]],
    passages: list[Passage],
    query_vector: np.ndarray,
    query_terms: list[str],
    idf: dict[str, float],
    unseen: float,
    k: int,
) -> list[Evidence]:
    """Best ``k`` non-redundant sentences of ``passages`` for the question."""
    candidates = sorted({sid for p in passages for sid in p.chunk.sentence_ids})
    if not candidates:
        return []
    sims = index.sentence_vectors[candidates] @ query_vector
    scored = []
    for sid, sim in zip(candidates, sims, strict=True):
        cover = weighted_coverage(query_terms, sentence_terms[sid], idf, unseen)
        scored.append((float(sim) + LEXICAL_WEIGHT * cover, float(sim), sid))
    scored.sort(key=lambda x: (-x[0], x[2]))
    chosen: list[tuple[float, float, int]] = []
    for item in scored:
        vec = index.sentence_vectors[item[2]]
        if all(float(vec @ index.sentence_vectors[c[2]]) < REDUNDANT_COSINE for c in chosen):
            chosen.append(item)
        if len(chosen) == k:
            break
    return [
        Evidence(sentence=index.sentences[sid], score=score, rank=r, similarity=sim)
        for r, (score, sim, sid) in enumerate(chosen, start=1)
    ]
