from __future__ import annotations

import pytest

from rag import compose
from rag.compose import check_answer, clean_model_text, make_citations, unsupported, verify_quote
from rag.types import Citation, Document, Sentence

TEXT = "In 2019, China designated fentanyl as a controlled substance. Deaths rose to 105,000."
DOC = {"a.txt": Document("a.txt", TEXT, "x")}
QUOTES = (Citation(1, TEXT[:61], "a.txt", 0, 61, 1, 1.0),)


def test_verbatim_quote_passes():
    verify_quote(QUOTES[0], DOC)


def test_shifted_quote_fails():
    shifted = Citation(1, TEXT[:61], "a.txt", 1, 62, 1, 1.0)
    with pytest.raises(AssertionError, match="not verbatim"):
        verify_quote(shifted, DOC)


def test_make_citations_numbers_in_order():
    s1 = Sentence(0, "a.txt", 0, 61, 1, TEXT[:61])
    s2 = Sentence(1, "a.txt", 62, len(TEXT), 1, TEXT[62:])
    cites = make_citations([(s1, 0.9), (s2, 0.5)], DOC)
    assert [c.n for c in cites] == [1, 2]
    assert cites[1].quote == "Deaths rose to 105,000."


def test_supported_answer_is_accepted():
    ok, _ = check_answer("China designated fentanyl a controlled substance in 2019.", "", QUOTES)
    assert ok


def test_false_premise_word_is_rejected():
    ok, why = check_answer("China refused to control fentanyl in 2019.", "", QUOTES)
    assert not ok and "refus" in why


def test_number_not_in_quotes_is_rejected():
    assert unsupported("China designated fentanyl in 2018.", QUOTES) == ["2018"]


def test_echo_of_question_is_rejected():
    ok, why = check_answer("China designated fentanyl.", "Did China designate fentanyl?", QUOTES)
    assert not ok and "repeats" in why


def test_model_abstention_is_not_an_answer():
    ok, _ = check_answer("NOT IN ARTICLE.", "", QUOTES)
    assert not ok


def test_clean_model_text_keeps_first_line_without_markers():
    assert clean_model_text(' "It was 2019 [1]."\nMore.') == "It was 2019."


def test_words_from_two_quotes_are_not_joined():
    two = (
        QUOTES[0],
        Citation(2, TEXT[62:], "a.txt", 62, len(TEXT), 1, 0.5),
    )
    ok, why = check_answer("In 2019, deaths rose to 105,000.", "", two)
    assert not ok and "not in the quotes" in why


def test_reply_with_a_finished_unsupported_word_is_given_up():
    quote = _citation("Deaths reached 105,000 in the U.S. last year.")
    assert compose.beyond_quotes("Deaths reached 106 ", (quote,))


def test_word_still_being_written_is_not_judged():
    quote = _citation("Deaths reached 105,000 in the U.S. last year.")
    assert not compose.beyond_quotes("Deaths reached 105,", (quote,))
    assert not compose.beyond_quotes("Deaths in Cana", (quote,))


def test_model_saying_not_in_article_is_given_up():
    quote = _citation("Deaths reached 105,000 in the U.S. last year.")
    assert compose.beyond_quotes("NOT IN ARTICLE", (quote,))


def _citation(text: str) -> Citation:
    return Citation(1, text, "a.txt", 0, len(text), 1, 1.0)


def test_lead_in_is_not_part_of_the_answer():
    assert clean_model_text("The answer is: India.") == "India."
    assert clean_model_text("Answer: 2019") == "2019"


def test_answer_naming_the_country_of_a_question_demonym_only_repeats_it():
    assert not compose.adds_to("China.", "Which country do Chinese firms sell to?")
    assert compose.adds_to("Mexico.", "Which country do Chinese firms sell to?")


def test_repeat_check_uses_demonyms_when_given_the_question():
    quote = _citation("Chinese firms sell to Mexico, not to China.")
    question = "Which country do Chinese firms sell to?"
    ok, why = check_answer("China.", question, (quote,))
    assert not ok and why == "only repeats the question"


def test_reply_copying_a_quote_word_for_word_is_the_quote():
    quote = _citation("The talks in Beijing went on for three long days in a row last January.")
    assert compose.copies_quote("The talks in Beijing went on for three long days in", (quote,))
    assert not compose.copies_quote("The talks in Beijing went on", (quote,))
    assert not compose.copies_quote("The talks in Beijing lasted for three long days in", (quote,))
