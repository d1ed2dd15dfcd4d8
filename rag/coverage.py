"""How much of a question the evidence covers: its rare terms, matched by word or by meaning."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from index.embed import embed
from rag.condense import question_names
from rag.text import content_words, idf_table, name_forms, stem

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
    unknown_names: tuple[str, ...] = ()


# Capitalised runs of the corpus ("Chinese Communist Party"), for acronyms in questions ("CCP").
_CAPITALISED_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:of\s+|and\s+|the\s+)*[A-Z][\w’'-]*)+")
_ACRONYM = re.compile(r"^[A-Z]{2,6}s?$")


def acronyms(texts: list[str]) -> set[str]:
    """Initials of every run of capitalised words in ``texts`` ("Chinese Communist Party" ->
    "CCP"; "of", "and", "the" are skipped)."""
    found = set()
    for text in texts:
        for run in _CAPITALISED_RUN.findall(text):
            found.add("".join(w[0] for w in run.split() if w[0].isupper()))
    return found


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
        self.all_terms = set().union(*self.sentence_terms) if sentences else set()
        self.acronyms = acronyms([s.text for s in sentences])
        self.forms = set().union(*(name_forms(w) for w in vocabulary)) if vocabulary else set()

    def _known(self, word: str) -> bool:
        """Whether the corpus uses the name word ``word``: by stem, as the initials of a name
        ("CCP"), or as the country of a demonym or the reverse ("Indian" ~ "India").
        Names are identities, so nearness of meaning ("Canada" ~ "America") does not count."""
        if _ACRONYM.match(word) and word.rstrip("s") in self.acronyms:
            return True
        parts = content_words(word)
        return all(
            stem(p) in self.all_terms or p in self.forms or not name_forms(p).isdisjoint(self.row)
            for p in parts
        )

    def unknown_names(self, question: str) -> tuple[str, ...]:
        """Names in ``question`` that the corpus never uses, not even one word of them
        ("Canada", "Justin Trudeau"; not "Xi Jinping", since "Xi" is used)."""
        unknown = []
        for name in question_names(question):
            # Words in capitals longer than most acronyms are shouting ("SYSTEM OVERRIDE").
            parts = [w for w in name.split() if not (w.isupper() and len(w) > 4)]
            if parts and not any(self._known(w) for w in parts):
                unknown.append(name)
        return tuple(unknown)

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
        unknown = self.unknown_names(question)
        if not asked:
            return Coverage(1.0, (), False, unknown)
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
        return Coverage(share, missing, whole, unknown)
