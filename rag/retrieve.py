"""Hybrid retrieval: dense FAISS search and BM25, fused by reciprocal rank."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import bm25s
import numpy as np

from index.embed import embed
from index.store import StoredIndex
from rag.text import terms
from rag.types import Passage

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Query vectors kept for texts asked again (1.5 kB each); 0 turns the cache off.
QUERY_CACHE_SIZE = 1024


def rrf(rankings: list[list[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion: ``sum(1 / (k + rank))`` over every ranking an id appears in."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


class Retriever:
    """Finds the passages of a stored index that best match a question.

    The vector store is only used through ``search(vectors, k) -> (scores, ids)``, the FAISS
    interface, so another engine with that call can stand in for it.
    """

    def __init__(self, index: StoredIndex, embedder: SentenceTransformer, rrf_k: int = 60):
        self.index = index
        self.embedder = embedder
        self.rrf_k = rrf_k
        # BM25 is rebuilt in memory at load: it takes milliseconds for a corpus this size.
        self.bm25 = bm25s.BM25()
        self.bm25.index([terms(c.text) or ["\x00"] for c in index.chunks], show_progress=False)
        # The most recent query vectors, oldest first.
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_query(self, text: str) -> np.ndarray:
        """The unit-length query vector, shape ``(dim,)``."""
        return self.embed_texts([text])[0]

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors of several queries, those not seen lately in one model call.

        MiniLM is most of a search's time; the chat asks the same text again on Retry, for
        the example questions, and when a follow-up repeats its question.
        """
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
            if missing:
                for text, vector in zip(missing, embed(self.embedder, missing), strict=True):
                    self._vectors[text] = vector
            for text in texts:
                self._vectors.move_to_end(text)
            found = [self._vectors[t] for t in texts]
            while len(self._vectors) > QUERY_CACHE_SIZE:
                self._vectors.popitem(last=False)
        return np.stack(found) if found else embed(self.embedder, [])

    def search(self, query: str, k: int, query_vector: np.ndarray | None = None) -> list[Passage]:
        """Top ``k`` passages for ``query`` by fused dense and BM25 rank."""
        n = len(self.index.chunks)
        depth = min(n, max(4 * k, 20))
        qv = self.embed_query(query) if query_vector is None else query_vector
        scores, ids = self.index.vectors.search(qv[None, :], depth)
        dense = {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}
        bm25 = self._bm25(query, depth)
        fused = rrf([list(dense), [i for i, s in bm25.items() if s > 0]], self.rrf_k)
        ranked = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [
            Passage(
                chunk=self.index.chunks[i],
                score=fused[i],
                rank=r,
                dense_score=dense[i] if i in dense else float(self.index_vector(i) @ qv),
                bm25_score=bm25.get(i, 0.0),
            )
            for r, i in enumerate(ranked, start=1)
        ]

    def index_vector(self, chunk_id: int) -> np.ndarray:
        """Stored vector of one chunk (for scores of passages found by BM25 alone)."""
        return self.index.vectors.reconstruct(chunk_id)

    def _bm25(self, query: str, depth: int) -> dict[int, float]:
        tokens = terms(query)
        if not tokens:
            return {}
        ids, scores = self.bm25.retrieve([tokens], k=depth, show_progress=False)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True)}
