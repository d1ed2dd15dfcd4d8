"""A small load run of benchmarks/bench_load.py: 8 concurrent users x 3 questions on ``/ask``,
against the real pipeline with SmolLM2 (its lock and prompt caches are shared by the users)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from rag.config import PROJECT_ROOT

pytest.importorskip("gradio_client")

USERS, QUESTIONS = 8, 3


def _bench() -> ModuleType:
    path = PROJECT_ROOT / "benchmarks" / "bench_load.py"
    spec = importlib.util.spec_from_file_location("bench_load", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="module")
def users():
    return bench.plan(bench.load_asks(), USERS, QUESTIONS)


@pytest.fixture(scope="module")
def result(serve, bot, users):
    return bench.run_users(serve(bot), users, time_limit_s=300)


def test_every_request_is_answered_without_errors(result):
    assert result.errors == []
    assert result.answered == USERS * QUESTIONS == len(result.latencies)


def test_answers_equal_the_sequential_ones(result, bot, users):
    assert bot.likelihood is not None  # the model ranks the evidence in this run
    reference = bench.sequential_keys(bot, [a for u in users for a in u])
    assert len(result.keys) == USERS * QUESTIONS
    assert bench.differing(result, reference) == []


def test_users_ask_different_questions(users):
    assert len({a for u in users for a in u}) == USERS * QUESTIONS


def test_a_changed_answer_is_reported(result):
    ask, (text, abstained, cited) = result.keys[0]
    reference = {a: key for a, key in result.keys}
    reference[ask] = (text + " (changed)", abstained, cited)
    assert bench.differing(result, reference) == [ask]
