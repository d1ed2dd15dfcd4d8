"""Reading test sets: every format, and error messages that name file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.eval.formats import EvalItem, load_items, read_test_set


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, *records: dict) -> Path:
    return _write(path, "".join(json.dumps(r) + "\n" for r in records))


PROJECT = {
    "id": "q1",
    "question": "How many died?",
    "answerable": True,
    "answers": ["105,000"],
    "gold_quotes": ["U.S. overdose fatalities reached 105,000"],
    "type": "number",
}


def test_project_jsonl_is_read_into_items(tmp_path):
    items = load_items(_jsonl(tmp_path / "set.jsonl", PROJECT))
    assert items == [
        EvalItem(
            id="q1",
            question="How many died?",
            answerable=True,
            answers=("105,000",),
            gold_quotes=("U.S. overdose fatalities reached 105,000",),
            type="number",
        )
    ]


def test_project_jsonl_reads_history_and_defaults_type(tmp_path):
    history = [{"role": "user", "content": "Who is she?"}]
    record = {**PROJECT, "history": history}
    del record["type"]
    (item,) = load_items(_jsonl(tmp_path / "set.jsonl", record))
    assert item.history == tuple(history)
    assert item.type == "general"


def test_project_jsonl_skips_blank_lines(tmp_path):
    path = _write(tmp_path / "set.jsonl", "\n" + json.dumps(PROJECT) + "\n\n")
    assert len(load_items(path)) == 1


def test_invalid_json_names_file_and_line(tmp_path):
    path = _write(tmp_path / "set.jsonl", json.dumps(PROJECT) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"set\.jsonl, line 2: invalid JSON"):
        load_items(path)


def test_missing_field_names_line_and_field(tmp_path):
    record = {k: v for k, v in PROJECT.items() if k != "answerable"}
    with pytest.raises(ValueError, match=r"line 1: missing field 'answerable'"):
        load_items(_jsonl(tmp_path / "set.jsonl", record))


def test_wrong_type_names_the_field(tmp_path):
    with pytest.raises(ValueError, match=r"line 1: field 'answers' must be a list of strings"):
        load_items(_jsonl(tmp_path / "set.jsonl", {**PROJECT, "answers": "105,000"}))


def test_answerable_must_be_a_boolean(tmp_path):
    with pytest.raises(ValueError, match=r"field 'answerable' must be true or false"):
        load_items(_jsonl(tmp_path / "set.jsonl", {**PROJECT, "answerable": "yes"}))


def test_bad_history_names_the_field(tmp_path):
    with pytest.raises(ValueError, match=r"field 'history'"):
        load_items(_jsonl(tmp_path / "set.jsonl", {**PROJECT, "history": ["hi"]}))


def test_duplicate_id_names_both_lines(tmp_path):
    path = _jsonl(tmp_path / "set.jsonl", PROJECT, PROJECT)
    with pytest.raises(ValueError, match=r"line 2: field 'id': 'q1' is already used at .*line 1"):
        load_items(path)


def test_empty_file_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"set\.jsonl: the file is empty"):
        load_items(_write(tmp_path / "set.jsonl", "\n  \n"))


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.jsonl: cannot read"):
        load_items(tmp_path / "nope.jsonl")


def test_unknown_format_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"notes\.txt: unknown test-set format"):
        load_items(_write(tmp_path / "notes.txt", "just some notes\n"))


def _squad(qas: list[dict]) -> dict:
    return {
        "version": "v2.0",
        "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}],
    }


def test_squad_answerable_question_uses_answers_as_gold_quotes(tmp_path):
    qa = {
        "id": "s1",
        "question": "How many?",
        "is_impossible": False,
        "answers": [{"text": "105,000", "answer_start": 3}, {"text": "105,000", "answer_start": 3}],
    }
    path = _write(tmp_path / "squad.json", json.dumps(_squad([qa])))
    assert load_items(path) == [
        EvalItem("s1", "How many?", True, ("105,000",), ("105,000",), "squad HasAns")
    ]


def test_squad_impossible_question_is_unanswerable(tmp_path):
    qa = {"id": "s2", "question": "Who won?", "is_impossible": True, "answers": []}
    (item,) = load_items(_write(tmp_path / "squad.json", json.dumps(_squad([qa]))))
    assert not item.answerable
    assert item.answers == ()
    assert item.type == "squad NoAns"


def test_squad_error_names_the_json_path(tmp_path):
    qa = {"id": "s3", "question": "How many?", "answers": [{"answer_start": 1}]}
    path = _write(tmp_path / "squad.json", json.dumps(_squad([qa])))
    with pytest.raises(
        ValueError,
        match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]: missing field 'text'",
    ):
        load_items(path)


def test_json_without_data_is_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"expected a SQuAD v2.0 object with a 'data' list"):
        load_items(_write(tmp_path / "set.json", json.dumps({"items": []})))


def test_ragas_jsonl_maps_reference_and_contexts(tmp_path):
    record = {
        "user_input": "How many died?",
        "reference": "105,000 people",
        "reference_contexts": ["fatalities reached 105,000"],
    }
    (item,) = load_items(_jsonl(tmp_path / "ragas.jsonl", record))
    assert item == EvalItem(
        "line1",
        "How many died?",
        True,
        ("105,000 people",),
        ("fatalities reached 105,000",),
        "ragas",
    )


def test_ragas_empty_reference_is_unanswerable(tmp_path):
    record = {"user_input": "Who won the cup?", "reference": "", "reference_contexts": []}
    (item,) = load_items(_jsonl(tmp_path / "ragas.jsonl", record))
    assert not item.answerable


def test_ragas_csv_parses_contexts_written_as_json(tmp_path):
    text = 'user_input,reference,reference_contexts\nHow many?,"105,000","[""a b"", ""c""]"\n'
    (item,) = load_items(_write(tmp_path / "ragas.csv", text))
    assert item.gold_quotes == ("a b", "c")


def test_ragas_csv_parses_contexts_written_by_pandas(tmp_path):
    text = "user_input,reference,reference_contexts\nHow many?,\"105,000\",\"['a b', 'c']\"\n"
    (item,) = load_items(_write(tmp_path / "ragas.csv", text))
    assert item.gold_quotes == ("a b", "c")


def test_ragas_bad_contexts_names_line_and_field(tmp_path):
    text = "user_input,reference,reference_contexts\nQ1?,A1,[]\nQ2?,A2,[unclosed\n"
    with pytest.raises(ValueError, match=r"ragas\.csv, line 3: field 'reference_contexts'"):
        load_items(_write(tmp_path / "ragas.csv", text))


def test_plain_csv_empty_answer_is_unanswerable(tmp_path):
    text = 'question,answer\nHow many died?,"105,000"\nWho won the cup?,\n'
    items = load_items(_write(tmp_path / "set.csv", text))
    assert [(i.id, i.answerable, i.answers) for i in items] == [
        ("line2", True, ("105,000",)),
        ("line3", False, ()),
    ]


def test_plain_csv_empty_question_names_line_and_field(tmp_path):
    text = "question,answer\nHow many?,3\n,4\n"
    with pytest.raises(ValueError, match=r"set\.csv, line 3: field 'question' is empty"):
        load_items(_write(tmp_path / "set.csv", text))


def test_csv_with_unknown_header_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"set\.csv, line 1: unknown CSV header"):
        load_items(_write(tmp_path / "set.csv", "q,a\nx,y\n"))


# --- every problem, not just the first ------------------------------------------------------


def test_read_test_set_reports_every_malformed_line_and_keeps_the_rest(tmp_path):
    text = (
        "{not json\n"
        + json.dumps(PROJECT)
        + "\n"
        + json.dumps({**PROJECT, "id": 7, "answerable": "yes"})
        + "\n"
    )
    test_set = read_test_set(_write(tmp_path / "set.jsonl", text))
    assert [i.id for i in test_set.items] == ["q1"]
    assert [(p.text.split(": ")[0], p.malformed) for p in test_set.problems] == [
        (f"{tmp_path / 'set.jsonl'}, line 1", True),
        (f"{tmp_path / 'set.jsonl'}, line 3", True),
    ]


def test_read_test_set_keeps_the_first_of_a_repeated_id(tmp_path):
    test_set = read_test_set(
        _jsonl(tmp_path / "set.jsonl", PROJECT, {**PROJECT, "question": "Again?"})
    )
    assert [i.question for i in test_set.items] == ["How many died?"]
    (problem,) = test_set.problems
    assert (problem.ids, problem.malformed) == (("q1",), True)
    assert "'q1' is already used at" in problem.text


def test_squad_answer_start_that_misses_its_answer_is_a_problem(tmp_path):
    qa = {
        "id": "s1",
        "question": "How many?",
        "answers": [{"text": "105,000", "answer_start": 0}],
    }
    data = {"data": [{"paragraphs": [{"context": "It was 105,000.", "qas": [qa]}]}]}
    test_set = read_test_set(_write(tmp_path / "squad.json", json.dumps(data)))
    assert [i.id for i in test_set.items] == ["s1"]
    (problem,) = test_set.problems
    assert (problem.ids, problem.malformed) == (("s1",), False)
    assert "qas[0].answers[0]: answer_start 0 points at 'It was ' in the context" in problem.text
    assert [(c.text, c.ids) for c in test_set.contexts] == [("It was 105,000.", ("s1",))]


def test_squad_possible_question_without_answers_is_no_answer(tmp_path):
    qa = {"id": "s4", "question": "Who won?", "is_impossible": False, "answers": []}
    (item,) = load_items(_write(tmp_path / "squad.json", json.dumps(_squad([qa]))))
    assert (item.answerable, item.answers) == (False, ())


# --- RAGAS names, current and legacy, in every container ------------------------------------

LEGACY = {
    "question": "How many died?",
    "ground_truth": "105,000 people",
    "contexts": ["retrieved by another system"],
    "answer": "another system's answer",
}


def test_legacy_ragas_jsonl_reads_question_and_ground_truth_with_generated_ids(tmp_path):
    (item,) = load_items(_jsonl(tmp_path / "legacy.jsonl", LEGACY))
    assert item == EvalItem("line1", "How many died?", True, ("105,000 people",), (), "ragas")


def test_legacy_ground_truths_list_keeps_every_answer(tmp_path):
    record = {"question": "How many died?", "ground_truths": ["105,000", "about 105,000"]}
    (item,) = load_items(_jsonl(tmp_path / "legacy.jsonl", record))
    assert item.answers == ("105,000", "about 105,000")


def test_json_array_of_current_and_legacy_records_is_read(tmp_path):
    current = {
        "user_input": "Who won?",
        "reference": "",
        "response": "x",
        "retrieved_contexts": ["y"],
    }
    path = _write(tmp_path / "ragas.json", json.dumps([current, LEGACY]))
    items = load_items(path)
    assert [(i.id, i.answerable) for i in items] == [("item1", False), ("item2", True)]


def test_json_array_entry_that_is_not_an_object_names_its_index(tmp_path):
    with pytest.raises(ValueError, match=r"ragas\.json, \[1\]: expected a JSON object"):
        load_items(_write(tmp_path / "ragas.json", json.dumps([LEGACY, "oops"])))


def test_csv_headers_are_case_insensitive_and_legacy_names_work(tmp_path):
    text = 'Question,Ground_Truths,Contexts\nHow many?,"[""105,000"", ""105000""]","[]"\n'
    (item,) = load_items(_write(tmp_path / "legacy.csv", text))
    assert (item.id, item.question, item.answers) == ("line2", "How many?", ("105,000", "105000"))


def test_current_csv_with_capitalised_headers(tmp_path):
    text = "User_Input,Reference\nHow many?,105\n"
    (item,) = load_items(_write(tmp_path / "ragas.csv", text))
    assert (item.question, item.answers) == ("How many?", ("105",))


def test_a_record_without_any_reference_field_says_which_names_work(tmp_path):
    with pytest.raises(ValueError, match=r"missing field 'reference' \(legacy: 'ground_truth'"):
        load_items(_jsonl(tmp_path / "legacy.jsonl", {"question": "Q?", "contexts": []}))
