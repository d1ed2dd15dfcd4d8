from __future__ import annotations

from pathlib import Path

import pytest

from index import store
from index.build import build_index, ensure_index, rebuild_reason
from index.corpus import read_corpus
from index.store import IndexUnusableError, current_build, load_index


def test_fresh_build_is_reused(unbuilt, embedder):
    _, reason = ensure_index(unbuilt, lambda: embedder)
    assert reason == "no index built yet"
    _, reason = ensure_index(unbuilt, lambda: embedder)
    assert reason is None


def test_changed_corpus_triggers_rebuild(unbuilt, embedder, town):
    ensure_index(unbuilt, lambda: embedder)
    Path(unbuilt.corpus[0]).write_text(town + "A new pier was built in 1930.\n", encoding="utf-8")
    index, reason = ensure_index(unbuilt, lambda: embedder)
    assert reason is not None and "corpus_sha256" in reason
    assert any("1930" in s.text for s in index.sentences)


def test_changed_chunk_size_triggers_rebuild(unbuilt, embedder):
    ensure_index(unbuilt, lambda: embedder)
    reason = rebuild_reason(unbuilt.replace(chunk_sentences=3), read_corpus(unbuilt.corpus))
    assert reason is not None and "chunk_sentences" in reason


def test_truncated_index_file_is_detected_and_rebuilt(unbuilt, embedder):
    ensure_index(unbuilt, lambda: embedder)
    vectors = current_build(Path(unbuilt.index_dir)) / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:50])
    with pytest.raises(IndexUnusableError, match="checksum"):
        load_index(Path(unbuilt.index_dir))
    index, reason = ensure_index(unbuilt, lambda: embedder)
    assert reason is not None and "unusable" in reason
    assert index.vectors.ntotal == len(index.chunks)


def test_garbage_manifest_means_rebuild(unbuilt, embedder):
    ensure_index(unbuilt, lambda: embedder)
    (current_build(Path(unbuilt.index_dir)) / "manifest.json").write_text("{not json")
    _, reason = ensure_index(unbuilt, lambda: embedder)
    assert reason == "no index built yet" or "unusable" in reason


def test_failed_build_leaves_previous_index_live(unbuilt, embedder, monkeypatch):
    ensure_index(unbuilt, lambda: embedder)
    before = current_build(Path(unbuilt.index_dir))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.faiss, "write_index", broken)
    with pytest.raises(OSError):
        build_index(unbuilt, embedder, read_corpus(unbuilt.corpus))
    assert current_build(Path(unbuilt.index_dir)) == before
    assert load_index(Path(unbuilt.index_dir)).chunks


def test_chunks_and_sentences_are_source_slices(unbuilt, embedder):
    index, _ = ensure_index(unbuilt, lambda: embedder)
    for unit in (*index.sentences, *index.chunks):
        assert index.documents[unit.source].text[unit.start : unit.end] == unit.text


def test_repeated_texts_are_embedded_once_and_get_the_same_vector(embedder, monkeypatch):
    from index.embed import embed

    seen: list[list[str]] = []
    encode = embedder.encode

    def counting(texts, *args, **kwargs):
        seen.append(list(texts))
        return encode(texts, *args, **kwargs)

    monkeypatch.setattr(embedder, "encode", counting)
    vectors = embed(embedder, ["Ships arrived.", "The mayor spoke.", "Ships arrived."])
    assert sum(len(batch) for batch in seen) == 2
    assert (vectors[0] == vectors[2]).all()
    assert not (vectors[0] == vectors[1]).all()


def test_pooled_passage_vectors_are_unit_means_of_their_sentences():
    import numpy as np

    from index.build import pooled
    from rag.types import Chunk

    sentences = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    chunks = [
        Chunk(0, "t", 0, 3, 0, "a b", (0, 1)),
        Chunk(1, "t", 4, 5, 0, "c", (2,)),
    ]
    vectors = pooled(sentences, chunks)
    assert np.allclose(vectors[0], [2**-0.5, 2**-0.5])
    assert np.allclose(vectors[1], [1.0, 0.0])


def test_large_corpora_pool_passage_vectors_and_small_ones_embed_them():
    from index.build import POOL_PASSAGES_FROM_CHARS, passage_vectors_mode
    from rag.types import Document

    def doc(size: int) -> Document:
        return Document("d.txt", "x" * size, "sha")

    assert passage_vectors_mode([doc(10_000)]) == "embed"
    assert passage_vectors_mode([doc(POOL_PASSAGES_FROM_CHARS)]) == "mean"
