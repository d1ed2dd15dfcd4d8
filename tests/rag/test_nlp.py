"""Entities and the kind of answer a question asks for, with spaCy's real small pipeline."""

from __future__ import annotations

from types import SimpleNamespace

from rag.nlp import (
    AMOUNT,
    ORGANISATION,
    PEOPLE,
    PERSON,
    PLACE,
    REGION,
    TIME,
    asked_entities,
    asked_kind,
    asked_noun,
    entities,
    holds_kind,
    is_country,
    label,
    names,
    parse,
)


def test_entities_have_labels():
    found = dict(entities("In March 2021, Maria Lopez flew from Madrid with 40 crates."))
    assert found.get("Maria Lopez") == "PERSON"
    assert found.get("Madrid") == "GPE"


def test_how_many_asks_for_an_amount():
    assert asked_kind("How many crates did she carry?") == AMOUNT


def test_how_many_of_a_time_unit_asks_for_a_duration():
    assert asked_kind("How many weeks did the strike last?") == TIME
    assert asked_kind("How many years had passed?") == TIME


def test_when_asks_for_a_time():
    assert asked_kind("When did the flight land?") == TIME


def test_where_asks_for_a_place():
    assert asked_kind("Where did the ferry dock?") == PLACE


def test_which_city_asks_for_a_place_not_a_body():
    assert asked_kind("Which city hosted the fair?") == REGION
    assert "ORG" not in REGION and "ORG" in PLACE


def test_what_takes_its_kind_from_its_own_noun():
    assert asked_kind("In what year did the mill close?") == TIME
    assert asked_kind("Which harbour city did the ferry reach?") == REGION


def test_a_compound_after_which_names_its_kind_last():
    assert asked_kind("Which EU official signed the lease?") == PEOPLE
    assert asked_kind("Which Ohio town hosted the fair?") == REGION


def test_the_subject_after_what_do_is_not_the_asked_kind():
    # "experts" and "officials" are people, but the question asks what they think.
    assert asked_kind("What do experts think about the new bridge?") is None
    assert asked_kind("What did officials decide about the ferry?") is None


def test_the_asked_noun_is_the_one_which_asks_about():
    assert asked_noun("Which ministry approved the permit?") == "ministry"
    assert asked_noun("What do experts think about the port?") is None
    assert asked_noun("Why did the ferry stop?") is None


def test_a_body_name_runs_on_into_the_name_after_of_or_on():
    doc = parse("The Senate Committee on the Pacific Fleet met the Ministry of Ports today.")
    found = [e.text for e in names(doc)]
    assert "The Senate Committee on the Pacific Fleet" in found


def test_who_asks_for_a_person():
    assert asked_kind("Who signed the lease?") == PERSON


def test_who_is_a_named_person_asks_for_a_description():
    assert asked_kind("Who is Maria Lopez?") is None


def test_who_is_a_name_in_lower_case_asks_for_a_description():
    assert asked_kind("who is maria lopez") is None
    assert asked_kind("who was tomas brandt") is None


def test_who_is_a_role_asks_for_a_person_even_when_it_names_a_body():
    assert asked_kind("Who is the treasurer of the Harbor Rowing Club?") == PERSON
    assert asked_kind("Who was the Dutch ambassador?") == PEOPLE


def test_a_noun_for_people_asks_for_a_person_not_a_body():
    assert asked_kind("Which official approved the lease?") == PEOPLE
    assert asked_kind("Who is the current director of the port authority?") == PEOPLE
    assert "ORG" in PERSON and "ORG" not in PEOPLE


def test_a_plural_noun_for_people_may_be_answered_by_a_side():
    # "Which officials…" is often answered "U.S. officials" or "the ministry's officials".
    assert asked_kind("Which officials approved the lease?") == PERSON
    assert asked_kind("Who are the experts quoted on the port?") == PERSON


def test_what_is_the_name_of_asks_for_what_its_noun_names():
    assert asked_noun("What is the name of the harbour's new director?") == "director"
    assert asked_kind("What is the name of the harbour's new director?") == PEOPLE
    assert asked_kind("What was the name of the town where the ferry sank?") == REGION
    assert asked_noun("What were the names of the rescued crates?") == "crate"
    assert asked_kind("What were the names of the rescued crates?") is None


def test_why_and_how_ask_for_no_entity():
    assert asked_kind("Why did the ferry stop?") is None
    assert asked_kind("How did the crates arrive?") is None


def test_why_asks_for_a_reason_even_with_a_who_after_it():
    assert asked_kind("Why does it matter who signs the permit?") is None


def test_a_later_wh_word_belongs_to_a_clause_not_to_the_question():
    assert asked_kind("Whose ferry sank when the storm hit?") == PERSON
    assert asked_kind("Why did the ferry turn back when the storm hit?") is None


def test_who_asks_for_a_person_or_a_body_not_a_country():
    text = "Envoys from Kenya met Maria Lopez and the Harbour Board in Lima."
    found = [e.text for e in asked_entities("Who met the envoys?", PERSON, text)]
    assert found == ["Maria Lopez", "the Harbour Board"]
    assert not holds_kind(["Envoys from Kenya met in Lima."], PERSON, "Who met the envoys?")


def test_a_country_is_no_answer_to_which_city():
    text = "Envoys from Peru met the U.S. delegation in Lima."
    found = [e.text for e in asked_entities("Which city did the envoys visit?", REGION, text)]
    assert found == ["Lima"]


def test_a_country_is_no_answer_to_which_state_but_answers_which_region():
    text = "Envoys from Peru met the delegation in Ohio."
    found = [e.text for e in asked_entities("Which state did the envoys visit?", REGION, text)]
    assert found == ["Ohio"]
    found = [e.text for e in asked_entities("Which region sent envoys?", REGION, text)]
    assert "Peru" in found


def test_a_country_still_answers_which_country():
    text = "Envoys from Peru met the delegation in Lima."
    found = [e.text for e in asked_entities("Which country sent envoys?", REGION, text)]
    assert "Peru" in found


def test_is_country_knows_countries_and_dotted_initials():
    assert is_country("Peru") and is_country("the U.S.") and is_country("Hong Kong")
    assert not is_country("Lima") and not is_country("LA") and not is_country("America")


def test_a_body_is_no_answer_to_which_city():
    text = "The Harbour Board met in Lisbon."
    assert [e.text for e in asked_entities("Which city did they meet in?", REGION, text)] == [
        "Lisbon"
    ]
    assert not holds_kind(["The Harbour Board met."], REGION, "Which city did they meet in?")


def test_an_entity_the_question_gives_does_not_count():
    question = "How many crates did Maria Lopez carry?"
    assert not holds_kind(["Maria Lopez carried them."], AMOUNT, question)
    assert holds_kind(["Maria Lopez carried 40 of them."], AMOUNT, question)


def test_an_entity_the_question_gives_by_its_initials_does_not_count():
    text = "The shipment went to the World Harbour Authority, based in Lisbon."
    assert [e.text for e in asked_entities("Where is the WHA based?", PLACE, text)] == ["Lisbon"]
    assert len(asked_entities("Where is the authority based?", PLACE, text)) == 2


def test_a_country_the_question_gives_by_its_demonym_does_not_count():
    text = "Ships from Italy and Kenya met in Rome."
    found = [e.text for e in asked_entities("In which Italian port did they meet?", PLACE, text)]
    assert found == ["Kenya", "Rome"]


def test_a_demonym_the_question_gives_by_its_country_does_not_count():
    text = "Japanese and Kenyan crews sailed."
    found = [e.text for e in asked_entities("Which group sailed from Japan?", ORGANISATION, text)]
    assert found == ["Kenyan"]


def test_a_year_read_as_a_plain_number_is_a_date():
    # The small model tags some years, such as that of the article's "a 2022 interview with
    # Newsweek", as CARDINAL.
    assert label(SimpleNamespace(label_="CARDINAL", text="1998")) == "DATE"
    assert label(SimpleNamespace(label_="CARDINAL", text="98")) == "CARDINAL"
    assert label(SimpleNamespace(label_="ORG", text="2022")) == "ORG"


def test_other_numbers_stay_numbers():
    found = entities("The port handled 300 ships and 2,024 crates.")
    assert ("300", "CARDINAL") in found and ("2,024", "CARDINAL") in found
