"""Years between two dated events, computed in code from two quotes."""

from __future__ import annotations

import numpy as np
import pytest

from rag.arithmetic import Difference, event_phrases, years_between
from rag.types import Sentence


@pytest.mark.parametrize(
    ("question", "phrases"),
    [
        (
            "How many years passed between the harbour strike and the new port law?",
            ("the harbour strike", "the new port law"),
        ),
        (
            "How long after the flood did the council rebuild the bridge?",
            ("the flood", "the council rebuild the bridge"),
        ),
        (
            "How many years before the election was the mayor's first speech?",
            ("the election", "the mayor's first speech"),
        ),
        (
            "How many years separated the mayor's first speech from the harbour strike?",
            ("the mayor's first speech", "the harbour strike"),
        ),
        ("How many years from the flood to the new bridge?", ("the flood", "the new bridge")),
    ],
)
def test_the_two_compared_events_are_cut_from_the_question(question, phrases):
    assert event_phrases(question) == phrases


@pytest.mark.parametrize(
    "question",
    [
        "How long was the mayor's speech?",
        "How many people attended the harbour strike?",
        "After the flood, how long had it been since the bridge opened?",
        "When did the council rebuild the bridge?",
        "How long did the mayor speak?",
    ],
)
def test_a_question_comparing_no_two_events_has_no_phrases(question):
    assert event_phrases(question) is None


def _sentence(i: int, text: str) -> Sentence:
    return Sentence(i, "doc.txt", i * 100, i * 100 + len(text), i, text)


SENTENCES = [
    _sentence(0, "The harbour strike began in 2011."),
    _sentence(1, "Nobody remembers the weather."),
    _sentence(2, "In 2015 the new port law was passed."),
]


def _by_words(phrases: list[str], ids: list[int]) -> np.ndarray:
    """A stand-in scorer: the share of a phrase's words (but "the") each sentence holds."""
    rows = []
    for p in phrases:
        words = set(p.lower().split()) - {"the"}
        rows.append([len(words & set(SENTENCES[i].text.lower().split())) / len(words) for i in ids])
    return np.array(rows)


def test_each_event_is_dated_by_its_own_sentence_and_the_years_subtracted():
    q = "How many years passed between the harbour strike and the new port law?"
    found = years_between(q, SENTENCES, _by_words, 0.3)
    assert found == Difference(4, SENTENCES[0], 2011, SENTENCES[2], 2015)
    assert found.text() == "Four years"
    assert found.working() == "2015 − 2011 = 4 years"


def test_no_answer_when_an_event_has_no_dated_sentence_close_enough():
    q = "How many years passed between the harbour strike and the moon landing?"
    assert years_between(q, SENTENCES, _by_words, 0.3) is None


def test_no_answer_when_the_sentences_closest_to_an_event_give_no_year():
    undated = [
        _sentence(3, "The harbour strike closed the docks."),
        _sentence(4, "The harbour strike ended in talks."),
        _sentence(5, "The harbour strike cost the port dearly."),
        _sentence(6, "A harbour museum opened in 2009."),
    ]
    sentences = [*undated, SENTENCES[2]]
    q = "How many years passed between the harbour strike and the new port law?"

    def score(phrases, ids):
        by_id = {s.id: s for s in sentences}
        return np.array(
            [
                [
                    len(set(p.lower().split()) - {"the"} & set(by_id[i].text.lower().split()))
                    for i in ids
                ]
                for p in phrases
            ],
            dtype=float,
        )

    assert years_between(q, sentences, score, 1.0) is None


def test_one_year_is_singular():
    one = Difference(1, SENTENCES[0], 2011, SENTENCES[2], 2012)
    assert one.text() == "One year"
    assert one.working() == "2012 − 2011 = 1 year"


# --- the real pipeline ------------------------------------------------------------------------


def test_years_between_two_events_cite_both_dated_quotes(bot, article_text):
    answer = bot.ask(
        "How many years were there between the start of the U.S.-China prosecution that put "
        "nine people in prison and China's decision to control fentanyl as a class?"
    )
    assert answer.mode == "computed (2019 − 2017 = 2 years)" and not answer.abstained
    assert answer.answer == "Two years [1][2]"
    first, second = answer.citations[:2]
    assert "2017" in first.quote and "2019" in second.quote
    for c in answer.citations:
        assert article_text[c.start : c.end] == c.quote


def test_a_stated_duration_is_quoted_not_computed(bot):
    answer = bot.ask("For how long had China not passed information to the UN drug body?")
    assert answer.mode != "computed"
