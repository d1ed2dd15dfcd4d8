"""Evidence choice on the real index, MiniLM and SmolLM2, with questions written for the test."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from rag.reader import read, with_pull_quotes
from rag.text import terms


def _read(bot, question: str, likelihood=True):
    vector = bot.retriever.embed_query(question)
    passages = bot.retriever.search(question, 5, vector)
    v = bot.vocabulary
    return read(
        bot.index,
        passages,
        question,
        vector,
        v.sentence_terms,
        terms(question),
        v.idf,
        v.unseen_idf,
        3,
        bot.likelihood.score if likelihood else None,
    )


def test_evidence_is_ranked_best_first(bot):
    evidence = _read(bot, "What did the State Department set up in 2023 to fight synthetic drugs?")
    scores = [e.score for e in evidence]
    assert scores == sorted(scores, reverse=True)
    assert "Global Coalition" in evidence[0].sentence.text


def test_likelihood_changes_the_scores(bot):
    question = "Which drug did doctors start prescribing widely in the 1990s?"
    with_model = _read(bot, question)
    without = _read(bot, question, likelihood=False)
    assert [e.score for e in with_model] != [e.score for e in without]
    assert "OxyContin" in with_model[0].sentence.text


def test_pull_quotes_are_not_evidence_twice(bot):
    evidence = _read(bot, "What does China want Congress to stop doing?")
    assert all(e.sentence.duplicate_of < 0 for e in evidence)


def test_a_pull_quote_lends_its_cosine_to_the_sentence_it_repeats():
    # Sentence 2 repeats part of sentence 0; sentence 1 stands alone.
    index = SimpleNamespace(pull_quotes=(np.array([2]), np.array([0])))
    sims = with_pull_quotes(index, np.array([0.2, 0.3, 0.6]))
    assert sims.tolist() == [0.6, 0.3, 0.6]


def test_a_pull_quote_never_lowers_the_sentence_it_repeats():
    index = SimpleNamespace(pull_quotes=(np.array([2]), np.array([0])))
    assert with_pull_quotes(index, np.array([0.5, 0.3, 0.1])).tolist() == [0.5, 0.3, 0.1]


def test_question_closest_to_a_pull_quote_finds_the_body_sentence(bot):
    # The article repeats "Regina LaBelle, the former acting director…" as a pull quote; the body
    # sentence is long and mostly about customers, so alone it is far from this question.
    evidence = _read(bot, "Which university employs LaBelle today?")
    assert "Georgetown University" in evidence[0].sentence.text
    assert evidence[0].sentence.duplicate_of < 0
    # Close enough not to be refused as off the article's subject.
    assert evidence[0].similarity >= bot.config.abstain_min_similarity
