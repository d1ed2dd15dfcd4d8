"""Term statistics and the names a corpus uses, with spaCy's real entity recogniser."""

from __future__ import annotations

import pytest

from rag.types import Sentence
from rag.vocabulary import Vocabulary, weighted_coverage

TEXTS = [
    "Delegates from Peru and Kenya met the World Trade Organization in Lima.",
    "Lula spoke about harvests in Brazil.",
    "Maria Lopez chairs the Harbour Board.",
    "The plan works, says Lopez.",
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    sentences, start = [], 0
    for i, text in enumerate(TEXTS):
        sentences.append(Sentence(i, "a.txt", start, start + len(text), 1, text))
        start += len(text) + 1
    return Vocabulary(tuple(sentences))


def test_coverage_weighs_rare_terms_more():
    idf = {"harvest": 2.0, "talk": 0.5}
    assert weighted_coverage(["harvest", "talk"], {"harvest"}, idf, 3.0) == pytest.approx(0.8)


def test_a_name_in_every_sentence_is_less_rare_than_one_named_once():
    texts = ["Peru signed the deal.", "Peru and Chile met.", "Peru spoke in Lima."]
    sentences = tuple(Sentence(i, "a.txt", 0, len(t), 1, t) for i, t in enumerate(texts))
    vocabulary = Vocabulary(sentences)
    assert vocabulary.rarity("Peru") < vocabulary.rarity("Lima")
    assert vocabulary.rarity("Atlantis") > vocabulary.rarity("Lima")


def test_name_the_corpus_never_uses_is_unknown(vocabulary):
    assert vocabulary.unknown_names("How much rice did Vietnam export?") == ("Vietnam",)


def test_person_the_corpus_never_uses_is_unknown(vocabulary):
    assert vocabulary.unknown_names("What did Angela Merkel say about Lima?") == ("Angela Merkel",)


def test_known_name_is_not_unknown(vocabulary):
    assert vocabulary.unknown_names("Who met in Lima?") == ()


def test_acronym_of_a_corpus_name_is_known(vocabulary):
    assert vocabulary.unknown_names("Whom did the WTO meet in Lima?") == ()


def test_demonym_of_a_corpus_name_is_known(vocabulary):
    assert vocabulary.unknown_names("Did Kenyan delegates attend?") == ()


def test_capitalised_opening_words_are_not_names(vocabulary):
    assert vocabulary.unknown_names("Anyway, Question: who met in Lima?") == ()


def test_an_acronym_is_spelled_out_as_the_corpus_names_it(vocabulary):
    assert vocabulary.spell_out("Where did the WTO meet?") == (
        "Where did the WTO (World Trade Organization) meet?"
    )


def test_a_name_already_spelled_out_is_not_repeated(vocabulary):
    question = "Did the World Trade Organization (WTO) meet?"
    assert vocabulary.spell_out(question) == question


def test_capitals_the_corpus_has_no_name_for_stay_as_they_are(vocabulary):
    assert vocabulary.spell_out("Did the IMF or NATO meet in Lima?") == (
        "Did the IMF or NATO meet in Lima?"
    )


def test_a_word_of_a_person_named_elsewhere_is_a_person(vocabulary):
    assert vocabulary.is_person("Lopez")
    assert not vocabulary.is_person("Lima")
    assert not vocabulary.is_person("Oslo")
