"""The retriever's query-vector cache, with the real MiniLM and index."""

from __future__ import annotations

import numpy as np
import pytest

import rag.retrieve as retrieve
from index.embed import embed
from rag.retrieve import Retriever


class CountingEmbedder:
    """The real MiniLM, counting the texts it is asked to embed."""

    def __init__(self, model):
        self.model = model
        self.texts: list[str] = []

    def encode(self, texts, **kwargs):
        self.texts.extend(texts)
        return self.model.encode(texts, **kwargs)


@pytest.fixture
def counted(extractive_bot, embedder):
    model = CountingEmbedder(embedder)
    return Retriever(extractive_bot.index, model), model


def test_a_text_asked_again_is_not_embedded_again(counted):
    retriever, model = counted
    first = retriever.embed_query("What did China do in 2019?")
    again = retriever.embed_query("What did China do in 2019?")
    assert model.texts == ["What did China do in 2019?"]
    assert np.array_equal(first, again)


def test_only_unseen_texts_go_to_the_model_in_one_call(counted):
    retriever, model = counted
    retriever.embed_query("Who is Vanda Felbab-Brown?")
    vectors = retriever.embed_texts(["Who is Vanda Felbab-Brown?", "Who is she?", "Who is she?"])
    assert model.texts == ["Who is Vanda Felbab-Brown?", "Who is she?"]
    assert vectors.shape == (3, 384) and np.array_equal(vectors[1], vectors[2])


def test_cached_vectors_equal_fresh_ones(counted, embedder):
    retriever, _ = counted
    texts = ["How many people died?", "What is the Entity List?"]
    retriever.embed_texts(texts)
    np.testing.assert_allclose(retriever.embed_texts(texts), embed(embedder, texts), atol=1e-6)


def test_cached_vectors_cannot_be_changed_by_a_caller(counted):
    retriever, _ = counted
    vector = retriever.embed_query("What did China do in 2019?")
    cached = retriever.embed_query("What did China do in 2019?")
    vector[0] = 42.0  # the caller's copy
    assert retriever.embed_query("What did China do in 2019?")[0] == cached[0] != 42.0


def test_the_oldest_text_is_dropped_when_the_cache_is_full(counted, monkeypatch):
    monkeypatch.setattr(retrieve, "QUERY_CACHE_SIZE", 2)
    retriever, model = counted
    for text in ("one?", "two?", "one?", "three?", "one?", "two?"):
        retriever.embed_query(text)
    # "two?" was the least recently asked when "three?" came, so it is embedded again.
    assert model.texts == ["one?", "two?", "three?", "two?"]
