"""The abstain decision, on evidence written for the test."""

from __future__ import annotations

from rag.abstain import decide, undated_years
from rag.nlp import AMOUNT, PEOPLE, PERSON
from rag.types import Evidence, Sentence

TEXT = "The harbour reopened after the storm, the port authority said."
SENTENCE = Sentence(0, "a.txt", 0, len(TEXT), 1, TEXT)


def _evidence(similarity: float) -> list[Evidence]:
    return [Evidence(SENTENCE, similarity, 1, similarity)]


def test_no_evidence_abstains():
    assert decide("Why did it reopen?", [], [], (), None, 0.35).abstain


def test_far_evidence_abstains():
    verdict = decide("Why did it reopen?", _evidence(0.2), [TEXT], (), None, 0.35)
    assert verdict.abstain and "close" in verdict.reason


def test_close_evidence_answers():
    verdict = decide("Why did the harbour reopen?", _evidence(0.7), [TEXT], (), None, 0.35)
    assert not verdict.abstain


def test_unknown_name_abstains_and_is_named():
    verdict = decide("Did Oslo reopen?", _evidence(0.7), [TEXT], ("Oslo",), None, 0.35)
    assert verdict.abstain and "“Oslo”" in verdict.reason


def test_missing_number_abstains():
    verdict = decide("How many ships left?", _evidence(0.7), [TEXT], (), AMOUNT, 0.35)
    assert verdict.abstain and "number" in verdict.reason and not verdict.kind_found


def test_a_person_asked_for_and_only_a_body_named_abstains():
    lead = ["The harbour reopened, Harbour Board officials said."]
    verdict = decide("Which official said it reopened?", _evidence(0.7), lead, (), PEOPLE, 0.35)
    assert verdict.abstain and "name" in verdict.reason


def test_a_person_the_tagger_missed_counts_when_the_corpus_names_them():
    # The small model may miss a bare first name; the corpus names her in full elsewhere.
    lead = ["In May, Ines won the harbour prize."]
    question = "Which sailor won the harbour prize?"
    assert decide(question, _evidence(0.7), lead, (), PEOPLE, 0.35).abstain
    verdict = decide(
        question, _evidence(0.7), lead, (), PEOPLE, 0.35, is_person=lambda w: w == "Ines"
    )
    assert not verdict.abstain


def test_person_asked_but_only_a_body_named_still_answers():
    # "Who said…" may be answered by a body ("the port authority") as well as a person.
    lead = ["The harbour reopened, Harbour Board officials said."]
    verdict = decide("Who said the harbour reopened?", _evidence(0.7), lead, (), PERSON, 0.35)
    assert not verdict.abstain


def test_year_the_paragraph_never_gives_abstains_and_is_named():
    context = "The harbour reopened in 1998. Ships returned the next spring."
    verdict = decide(
        "How many ships returned in 2004?", _evidence(0.7), [TEXT], (), None, 0.35, context
    )
    assert verdict.abstain and "2004" in verdict.reason


def test_year_the_paragraph_gives_elsewhere_answers():
    # The year may sit in another sentence of the paragraph ("the 1998 closure").
    context = f"The harbour closed in 1998. {TEXT}"
    verdict = decide(
        "Why did the harbour reopen after 1998?", _evidence(0.7), [TEXT], (), None, 0.35, context
    )
    assert not verdict.abstain


def test_undated_years_lists_only_the_missing_ones():
    assert undated_years("Between 1998 and 2004, and again in 1998?", "In 1998 it shut.") == [2004]
