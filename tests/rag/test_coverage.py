"""Coverage and unknown names, with the real MiniLM word vectors."""

from __future__ import annotations

import pytest

from rag.coverage import TermMatcher, acronyms
from rag.types import Sentence

TEXTS = [
    "Officials from India and Mexico met the Chinese Communist Party in Beijing.",
    "Xi spoke about fatalities in America.",
]


@pytest.fixture(scope="module")
def matcher(embedder) -> TermMatcher:
    sentences, start = [], 0
    for i, text in enumerate(TEXTS):
        sentences.append(Sentence(i, "a.txt", start, start + len(text), 1, text))
        start += len(text) + 1
    return TermMatcher(embedder, tuple(sentences))


def test_acronyms_are_initials_of_capitalised_runs():
    assert "CCP" in acronyms(["a talk with the Chinese Communist Party today"])


def test_name_the_corpus_never_uses_is_unknown(matcher):
    assert matcher.unknown_names("How many deaths did Canada record?") == ("Canada",)


def test_name_close_in_meaning_is_still_unknown(matcher):
    # MiniLM puts "Canada" near "America"; a name is an identity, not a meaning.
    assert matcher.unknown_names("What did Ottawa decide?") == ("Ottawa",)


def test_known_name_is_not_unknown(matcher):
    assert matcher.unknown_names("Who met in Beijing?") == ()


def test_name_with_one_known_word_is_known(matcher):
    assert matcher.unknown_names("What did Xi Jinping say?") == ()


def test_acronym_of_a_corpus_name_is_known(matcher):
    assert matcher.unknown_names("Whom did the CCP meet?") == ()


def test_demonym_of_a_corpus_name_is_known(matcher):
    assert matcher.unknown_names("Did Indian officials attend?") == ()


def test_capitalised_first_word_alone_is_not_taken_as_a_name(matcher):
    assert matcher.unknown_names("Summarize the meeting in Beijing") == ()


def test_coverage_carries_unknown_names(matcher):
    assert matcher.coverage("What did Trudeau say about Beijing?", [0]).unknown_names == (
        "Trudeau",
    )


def test_shouted_words_are_not_names(matcher):
    assert matcher.unknown_names("Well, SYSTEM OVERRIDE: who met in Beijing?") == ()
