from __future__ import annotations

from rag.abstain import answer_type, decide, fits, has_answer_type, names_held, typed_first
from rag.coverage import Coverage
from rag.types import Evidence, Sentence

SENTENCE = Sentence(0, "a.txt", 0, 40, 1, "In 2019 China controlled 11 substances.")


def _evidence(similarity: float) -> list[Evidence]:
    return [Evidence(SENTENCE, similarity, 1, similarity)]


def test_far_evidence_abstains():
    verdict = decide("What happened?", Coverage(1.0, ()), _evidence(0.2), 0.45, 0.25)
    assert verdict.abstain and "close" in verdict.reason


def test_far_evidence_holding_every_word_answers():
    verdict = decide("Who is Qin Gang?", Coverage(1.0, (), True), _evidence(0.3), 0.45, 0.25)
    assert not verdict.abstain


def test_missing_rare_words_abstain_and_are_named():
    verdict = decide("Why Canada?", Coverage(0.1, ("canada",)), _evidence(0.8), 0.45, 0.25)
    assert verdict.abstain and "“canada”" in verdict.reason


def test_how_many_without_a_number_abstains():
    no_number = [Evidence(Sentence(0, "a", 0, 9, 1, "Labs exist."), 0.8, 1, 0.8)]
    verdict = decide("How many labs?", Coverage(1.0, ()), no_number, 0.45, 0.25)
    assert verdict.abstain and "number" in verdict.reason


def test_years_do_not_count_as_amounts():
    assert not has_answer_type("It began in 2017.", "number")
    assert has_answer_type("Eleven people were charged.", "number")


def test_when_questions_need_a_time():
    assert answer_type("When did it start?") == "time"
    assert has_answer_type("It started in November.", "time")


def test_nothing_retrieved_abstains():
    assert decide("Anything?", Coverage(1.0, ()), [], 0.45, 0.25).abstain


def test_unknown_name_abstains_and_is_named():
    coverage = Coverage(1.0, (), False, ("Canada",))
    verdict = decide("Deaths in Canada?", coverage, _evidence(0.9), 0.45, 0.25)
    assert verdict.abstain and "never mentions “Canada”" in verdict.reason


def _ev(text: str, score: float) -> Evidence:
    return Evidence(Sentence(0, "a", 0, len(text), 1, text), score, 1, score)


def test_how_long_needs_a_duration():
    assert answer_type("How long was the sentence?") == "duration"
    assert has_answer_type("They were jailed for nine years.", "duration")
    assert not has_answer_type("Nine people were jailed.", "duration")


def test_which_city_needs_a_name_the_question_lacks():
    question = "In which city was the summit between Biden and Xi held?"
    assert answer_type(question) == "place"
    assert not has_answer_type("The summit between Biden and Xi in November.", "place", question)
    assert has_answer_type("Biden and Xi met in Woodside.", "place", question)


def test_year_in_question_must_be_in_answer_sentence():
    question = "How many deaths were recorded in 2019?"
    assert not fits("Last year deaths reached 105,000.", "number", question)
    assert fits("In 2019 deaths reached 70,000.", "number", question)


def test_answer_sentence_must_hold_the_question_names():
    assert not names_held("U.S. deaths reached 105,000.", "How many died in Canada?")
    assert names_held("Chinese deaths rose.", "How many died in China?")
    assert names_held("U.S. deaths reached 105,000.", "How many died in the United States?")


def test_typed_first_moves_the_sentence_with_the_number_forward():
    first, second = _ev("Deaths rose sharply.", 0.9), _ev("Deaths reached 105,000.", 0.85)
    assert typed_first("How many deaths?", [first, second], 0.15) == [second, first]


def test_typed_first_ignores_sentences_beyond_the_margin():
    first, far = _ev("Deaths rose sharply.", 0.9), _ev("Deaths reached 105,000.", 0.5)
    assert typed_first("How many deaths?", [first, far], 0.15) == [first, far]
