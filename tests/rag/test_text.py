from __future__ import annotations

from rag.text import acronyms, idf_table, terms, words, years


def test_numbers_lose_thousands_separators():
    assert "105000" in words("reached 105,000 deaths")


def test_question_words_are_not_terms():
    assert terms("Who said what about the article?") == []


def test_terms_are_stemmed():
    assert terms("cooperating cooperation") == ["cooper", "cooper"]


def test_curly_apostrophe_possessive_matches_plain():
    assert terms("China’s") == terms("China's") == ["china"]


def test_unseen_term_weighs_more_than_any_seen():
    table, unseen = idf_table([["a", "b"], ["a"]])
    assert unseen > table["b"] > table["a"]


def test_years_are_four_digit_years_in_order():
    assert years("From 1998 to 2024, not 12345 or 300.") == [1998, 2024]


def test_acronyms_are_initials_of_capitalised_runs():
    assert "WTO" in acronyms(["a talk with the World Trade Organization today"])


def test_acronyms_may_keep_the_initial_of_of():
    found = acronyms(["the Ministry of Transport said"])
    assert found["MOT"] == found["MT"] == "Ministry of Transport"
    assert "MOTS" not in found
