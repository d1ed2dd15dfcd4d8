"""Short answers cut from the quote: unit cases written for the test, and a property over many
questions with the real pipeline."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.nlp import AMOUNT, PERSON, PLACE, TIME, parse
from rag.span import (
    PICK_MARGIN,
    full_name,
    named_instance,
    parse_distance,
    pick,
    pick_features,
    pick_probabilities,
    points_back,
    reason_answer,
    reason_clauses,
    short_answer,
)
from rag.types import Citation

SOURCE = "Intro. The ferry left Oslo in May 2020 with 40 passengers and 12 cars aboard."
QUOTE = SOURCE[7:]
CITE = Citation(1, QUOTE, "a.txt", 7, len(SOURCE), 1, 0.9)


def test_the_one_place_is_the_answer_with_its_offsets():
    span = short_answer("Where did the ferry leave from?", PLACE, CITE)
    assert span is not None and span.text == "Oslo"
    assert SOURCE[span.start : span.end] == "Oslo" and span.n == 1


def test_the_one_date_is_the_answer():
    span = short_answer("When did the ferry leave Oslo?", TIME, CITE)
    assert span is not None and span.text == "May 2020"


def test_that_same_year_points_back_at_the_sentence_before():
    text = "That same year, the harbour board opened a second ferry line."
    assert points_back("When did the board open a second line?", TIME, text)
    assert not points_back("Who opened a second line?", None, text)


def test_a_date_of_its_own_does_not_point_back():
    assert not points_back("When did the ferry leave Oslo?", TIME, QUOTE)
    assert not points_back("When did it open?", TIME, "It opened that spring.")


def test_two_candidates_keep_the_whole_quote():
    assert short_answer("How many were aboard?", AMOUNT, CITE) is None


def test_the_scorers_clear_favourite_of_two_candidates_is_the_answer():
    def scorer(question, quote, answers):
        return [-1.0 if a == "12" else -6.0 for a in answers]

    span = short_answer("How many were aboard?", AMOUNT, CITE, scorer)
    assert span is not None and span.text == "12"
    assert SOURCE[span.start : span.end] == "12"


def test_a_close_call_between_candidates_keeps_the_whole_quote():
    def scorer(question, quote, answers):
        return [-2.0 for _ in answers]

    assert short_answer("How many were aboard?", AMOUNT, CITE, scorer) is None


def test_a_surname_takes_the_full_name_a_later_quote_gives():
    text = "Intro. “It will pass,” adds Okafor. Dr. Ada Okafor, a nurse in Leeds, agrees."
    first = Citation(1, "“It will pass,” adds Okafor.", "a.txt", 7, 35, 1, 0.9)
    second = Citation(
        2, "Dr. Ada Okafor, a nurse in Leeds, agrees.", "a.txt", 36, len(text), 1, 0.8
    )
    assert text[first.start : first.end] == first.quote
    assert text[second.start : second.end] == second.quote
    surname = short_answer("Who said it will pass?", frozenset({"PERSON"}), first)
    span = full_name(surname, [first, second])
    assert (span.n, span.text) == (2, "Ada Okafor")
    assert text[span.start : span.end] == "Ada Okafor"
    assert full_name(surname, [first]) == surname


def test_pick_takes_the_leader_only_by_the_margin():
    assert pick([0.9, 0.9 - PICK_MARGIN - 0.01]) == 0
    assert pick([0.5, 0.5 + PICK_MARGIN - 0.01]) is None
    assert pick([0.2, 0.2 + PICK_MARGIN]) == 1


def test_a_likelier_nearer_rarer_entity_of_the_asked_label_scores_higher():
    base = pick_probabilities([(0.0, 0.0, 1.0, 0.0)])[0]
    assert pick_probabilities([(-2.0, 0.0, 1.0, 0.0)])[0] < base
    assert pick_probabilities([(0.0, 3.0, 1.0, 0.0)])[0] < base
    assert pick_probabilities([(0.0, 0.0, 0.0, 0.0)])[0] < base
    assert pick_probabilities([(0.0, 0.0, 1.0, -2.0)])[0] < base


def test_the_entity_the_corpus_keeps_naming_loses_to_a_rare_one():
    # Equal in all but rarity: the article's subject ("Oslo", named everywhere) is not picked.
    def scorer(question, quote, answers):
        return [-2.0 for _ in answers]

    rarity = {"Oslo": 0.2, "Bergen": 3.0}.get
    cite = Citation(1, "Ferries from Oslo and Bergen met.", "a.txt", 0, 33, 1, 0.9)
    span = short_answer("Which port did the ferries come from?", PLACE, cite, scorer, rarity)
    assert span is not None and span.text == "Bergen"


def test_missing_rarities_count_as_equal():
    doc = parse("Ferries from Oslo and Bergen met.")
    places = list(doc.ents)
    features = pick_features("Which port?", PLACE, places, [0.0] * len(places))
    assert [f[3] for f in features] == [0.0] * len(places)


def test_parse_distance_counts_edges_to_the_nearest_question_word():
    doc = parse("The ferry from Oslo reached Bergen in May.")
    bergen = next(e for e in doc.ents if e.text == "Bergen")
    assert parse_distance(bergen, {"reach"}) == 1
    assert parse_distance(bergen, {"ferry"}) == 2
    assert parse_distance(bergen, {"harbour"}) == 8


def test_features_prefer_a_person_for_who():
    doc = parse("Ann Lee, a fellow at the Lund Institute, said so.")
    people = [e for e in doc.ents if e.label_ in ("PERSON", "ORG")]
    features = pick_features("Who said so?", PERSON, people, [0.0] * len(people))
    first = {e.text: f[2] for e, f in zip(people, features, strict=True)}
    assert first["Ann Lee"] == 1.0 and first["the Lund Institute"] == 0.0


def test_what_the_question_gives_is_not_the_answer():
    assert short_answer("Where did the ferry from Oslo go?", PLACE, CITE) is None


def test_no_kind_no_short_answer():
    assert short_answer("Why did the ferry leave?", None, CITE) is None


def test_a_reason_clause_runs_from_its_opener_to_the_end_of_what_it_governs():
    doc = parse("The ferry stayed in port because the wind was too strong, and it sailed later.")
    assert [c.text for c in reason_clauses(doc)] == ["because the wind was too strong"]


def test_a_reason_phrase_counts_as_a_reason():
    doc = parse("The mill closed in 1990 due to falling prices.")
    assert [c.text for c in reason_clauses(doc)] == ["due to falling prices"]


def test_as_and_since_of_time_are_no_reason():
    doc = parse("Since 2019 the port has grown, as trade rose.")
    assert reason_clauses(doc) == []


def test_the_reason_is_the_clause_that_does_not_restate_the_question():
    source = (
        "The bridge is shut because its cables are worn, because the city spent its money on roads."
    )
    cite = Citation(1, source, "b.txt", 0, len(source), 1, 0.9)
    span = reason_answer("Why are the bridge's cables worn?", [cite])
    assert span is not None and span.text == "because the city spent its money on roads"
    assert source[span.start : span.end] == span.text


def test_a_quote_without_a_reason_clause_gives_no_reason_answer():
    assert reason_answer("Why did the ferry leave?", [CITE]) is None


def _cite(text: str) -> Citation:
    return Citation(1, text, "c.txt", 10, 10 + len(text), 1, 0.9)


def test_which_noun_gets_the_one_name_that_has_the_noun():
    cite = _cite("Officials of the Harbor Authority met the Ministry of Fisheries in Lima.")
    span = named_instance("Which ministry met the officials?", "ministry", cite)
    assert span is not None and span.text == "the Ministry of Fisheries"
    assert span.start == 10 + cite.quote.index("the Ministry")


def test_a_name_is_cut_at_its_owner():
    cite = _cite("Inspectors closed the Ministry of Trade’s Institute of Ocean Science in May.")
    span = named_instance("Which ministry runs the ocean institute?", "ministry", cite)
    assert span is not None and span.text == "the Ministry of Trade"


def test_no_name_with_the_noun_gives_no_answer():
    cite = _cite("Officials of the Harbor Authority met in Lima.")
    assert named_instance("Which magazine covered it?", "magazine", cite) is None


def test_two_names_with_the_noun_give_no_answer():
    cite = _cite("The Ministry of Fisheries and the Ministry of Ports met in Lima.")
    assert named_instance("Which ministry hosted?", "ministry", cite) is None


def test_which_committee_is_answered_with_its_whole_name(bot, article_text):
    answer = bot.ask("Which committee held a hearing on China this week?")
    span = answer.answer_quote
    assert answer.mode == "short" and span is not None
    assert span.text == "the House Select Committee on the Chinese Communist Party"
    assert article_text[span.start : span.end] == span.text


def test_a_number_question_gets_the_number_alone(bot, article_text):
    answer = bot.ask("How many people died of overdoses in the U.S. last year?")
    assert answer.answer == "105,000 [1]" and answer.mode == "short"
    span = answer.answer_quote
    assert article_text[span.start : span.end] == "105,000"
    assert "105,000" in answer.citations[0].quote  # the whole sentence stays the source


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Who thinks Washington relies too heavily on Beijing's central government?",
            "Zongyuan Zoe Liu",
        ),
        ("Who cited Reagan about subsidies at the hearing?", "Mike Gallagher"),
    ],
)
def test_a_quote_naming_a_person_and_a_body_answers_who_with_the_person(
    bot, article_text, question, expected
):
    answer = bot.ask(question)
    assert answer.answer == f"{expected} [1]" and answer.mode == "short"
    span = answer.answer_quote
    assert article_text[span.start : span.end] == expected


def test_who_said_a_quote_is_answered_with_its_speaker_named_in_another_sentence(bot, article_text):
    answer = bot.ask("Who said small chemical makers have thin margins?")
    span = answer.answer_quote
    assert answer.mode == "short" and span is not None and span.n > 1
    assert answer.answer == f"Zongyuan Zoe Liu [{span.n}]"
    assert article_text[span.start : span.end] == "Zongyuan Zoe Liu"
    assert "thin margins" in answer.citations[0].quote  # the quote itself stays cited first


ASKS = ["How many", "When", "Where", "Who", "In which year", "Which country", "Why"]
TOPICS = [
    "people died of overdoses in the U.S.",
    "did China control fentanyl",
    "did the officials meet in late January",
    "indictments did the Justice Department announce",
    "said the chemical industry runs on thin margins",
    "could become a source of fentanyl chemicals",
    "did the working group meet",
    "leads the Select Committee",
]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(ASKS), st.sampled_from(TOPICS))
def test_every_short_answer_stands_at_its_offsets(bot, article_text, ask, topic):
    answer = bot.ask(f"{ask} {topic}?")
    span = answer.answer_quote
    if span is None:
        return
    assert article_text[span.start : span.end] == span.text
    cited = next(c for c in answer.citations if c.n == span.n)
    assert cited.start <= span.start < span.end <= cited.end
    assert answer.answer == f"{span.text} [{span.n}]" and answer.mode == "short"
