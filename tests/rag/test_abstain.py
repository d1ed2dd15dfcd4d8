from __future__ import annotations

from rag.abstain import answer_type, decide, has_answer_type
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
