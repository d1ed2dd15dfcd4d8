"""How much of a question the evidence covers: its rare terms, matched by word or by meaning."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from index.embed import embed
from rag.text import content_words, idf_table, stem

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from rag.types import Sentence

logger = logging.getLogger(__name__)

# A question word counts as present when a word of the evidence is this close in MiniLM space
# ("deaths" ~ "fatalities" 0.83, "labs" ~ "laboratory" 0.78; "meet" ~ "convened" 0.42 is not).
SOFT_MATCH_COSINE = 0.7


@dataclass(frozen=True)
class Coverage:
    """IDF-weighted share of the question's terms found in the evidence, and the missing words."""

    share: float
    missing: tuple[str, ...]
    one_sentence: bool = False


class TermMatcher:
    """Knows every content word of the corpus, its IDF and its MiniLM vector."""

    def __init__(self, embedder: SentenceTransformer, sentences: tuple[Sentence, ...]):
        self.embedder = embedder
        self.sentence_words = [set(content_words(s.text)) for s in sentences]
        self.sentence_terms = [{stem(w) for w in ws} for ws in self.sentence_words]
        self.idf, self.unseen_idf = idf_table(self.sentence_terms)
        vocabulary = sorted(set().union(*self.sentence_words)) if sentences else []
        self.row = {w: i for i, w in enumerate(vocabulary)}
        # One batch at load time, so a question only embeds its own few words.
        self.vectors = embed(embedder, vocabulary, batch_size=256)
        self._cache: dict[str, np.ndarray] = {}

    def _word_vectors(self, words: list[str]) -> np.ndarray:
        new = [w for w in words if w not in self._cache and w not in self.row]
        for w, v in zip(new, embed(self.embedder, new), strict=True):
            self._cache[w] = v
        return np.stack(
            [self._cache[w] if w in self._cache else self.vectors[self.row[w]] for w in words]
        )

    def coverage(self, question: str, sentence_ids: list[int]) -> Coverage:
        """How much of ``question`` the sentences ``sentence_ids`` cover."""
        asked = list(dict.fromkeys(content_words(question)))
        if not asked:
            return Coverage(1.0, (), False)
        found_terms = (
            set().union(*(self.sentence_terms[i] for i in sentence_ids)) if sentence_ids else set()
        )
        found_words = (
            sorted(set().union(*(self.sentence_words[i] for i in sentence_ids)))
            if sentence_ids
            else []
        )
        lexical_miss = [w for w in asked if stem(w) not in found_terms]
        soft_found: set[str] = set()
        if lexical_miss and found_words:
            sims = (
                self._word_vectors(lexical_miss)
                @ self.vectors[[self.row[w] for w in found_words]].T
            )
            soft_found = {
                w
                for w, best in zip(lexical_miss, sims.max(axis=1), strict=True)
                if best >= SOFT_MATCH_COSINE
            }
        weights = {w: self.idf.get(stem(w), self.unseen_idf) for w in asked}
        missing = tuple(w for w in lexical_miss if w not in soft_found)
        share = 1.0 - sum(weights[w] for w in missing) / sum(weights.values())
        stems = {stem(w) for w in asked}
        whole = len(stems) >= 2 and any(stems <= self.sentence_terms[i] for i in sentence_ids)
        return Coverage(share, missing, whole)
