"""Checking a test set against the corpus and choosing the items to run."""

from __future__ import annotations

import pytest

from rag.eval.formats import Context, EvalItem, Problem, TestSet
from rag.eval.validate import Corpus, corpus_problems, select_items

CORPUS = Corpus.of(["Overdose deaths reached 105,000 last year. Officials met in Beijing."])
GOOD = EvalItem("q1", "How many?", True, ("105,000",), ("deaths reached 105,000",))
CURLY = EvalItem("q2", "Where?", True, ("Beijing",), ("“Officials met in Beijing”",))
MISSING = EvalItem("q3", "Who?", True, ("Li",), ("Li Wei said so",))
WHERE = (("q1", "set.jsonl, line 1"), ("q2", "set.jsonl, line 2"), ("q3", "set.jsonl, line 3"))


def _set(*items: EvalItem, problems: tuple[Problem, ...] = (), contexts=()) -> TestSet:
    return TestSet(tuple(items), problems, tuple(contexts), WHERE)


def test_gold_quote_not_in_the_corpus_is_a_problem_naming_the_line():
    test_set = _set(GOOD, CURLY, MISSING)
    (problem,) = corpus_problems(test_set, test_set.items, CORPUS)
    assert problem.ids == ("q3",)
    assert problem.text.startswith("set.jsonl, line 3: gold quote 'Li Wei said so' is not in")


def test_squad_context_not_in_the_corpus_is_a_problem_for_its_questions():
    contexts = [Context("squad.json, data[0].paragraphs[0]", "Another article.", ("q1",))]
    test_set = _set(GOOD, contexts=contexts)
    (problem,) = corpus_problems(test_set, test_set.items, CORPUS)
    assert (problem.ids, "the context 'Another article.' is not in" in problem.text) == (
        ("q1",),
        True,
    )


def test_by_default_problems_are_kept_and_every_item_runs():
    test_set = _set(GOOD, MISSING)
    selection = select_items(test_set, test_set.items, CORPUS)
    assert (selection.items, len(selection.problems), selection.skipped) == (
        test_set.items,
        1,
        (),
    )


def test_strict_refuses_and_lists_every_problem():
    bad_line = Problem("set.jsonl, line 9: invalid JSON", malformed=True)
    test_set = _set(GOOD, MISSING, problems=(bad_line,))
    with pytest.raises(ValueError, match=r"2 problem\(s\).*--strict") as info:
        select_items(test_set, test_set.items, CORPUS, strict=True)
    assert "line 9: invalid JSON" in str(info.value) and "line 3: gold quote" in str(info.value)


def test_a_malformed_item_needs_skip_invalid():
    test_set = _set(GOOD, problems=(Problem("set.jsonl, line 2: invalid JSON", malformed=True),))
    with pytest.raises(ValueError, match="add --skip-invalid"):
        select_items(test_set, test_set.items, CORPUS)


def test_skip_invalid_runs_only_the_items_without_problems():
    test_set = _set(GOOD, MISSING, problems=(Problem("line 2: bad", malformed=True),))
    selection = select_items(test_set, test_set.items, CORPUS, skip_invalid=True)
    assert (selection.items, selection.skipped, len(selection.problems)) == ((GOOD,), ("q3",), 2)


def test_problems_of_items_beyond_limit_are_not_reported():
    test_set = _set(GOOD, MISSING, problems=(Problem("line 3: start", ("q3",)),))
    assert select_items(test_set, (GOOD,), CORPUS).problems == ()
