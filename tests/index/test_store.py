from __future__ import annotations

import numpy as np
import pytest

from index.store import make_faiss_index


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    rng = np.random.default_rng(7)
    v = rng.normal(size=(3000, 32)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_each_index_type_finds_a_stored_vector_itself(vectors, kind):
    index = make_faiss_index(vectors, kind)
    _, ids = index.search(vectors[:50], 1)
    hits = np.mean(ids[:, 0] == np.arange(50))
    assert index.ntotal == len(vectors)
    assert hits >= 0.9


def test_auto_is_flat_for_a_small_corpus(vectors):
    assert type(make_faiss_index(vectors, "auto")).__name__ == "IndexFlatIP"


def test_unknown_index_type_is_refused(vectors):
    with pytest.raises(ValueError, match="flat, hnsw or ivf"):
        make_faiss_index(vectors, "annoy")
