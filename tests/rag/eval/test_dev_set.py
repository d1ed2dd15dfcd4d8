"""The shipped dev set is well formed: its gold quotes are verbatim and its mix is as claimed."""

from __future__ import annotations

from collections import Counter

import pytest

from rag.config import PROJECT_ROOT
from rag.eval.formats import load_items

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"


@pytest.fixture(scope="module")
def items():
    return load_items(DEV)


def test_every_gold_quote_is_a_verbatim_substring(items, article_text):
    for item in items:
        for quote in item.gold_quotes:
            assert quote in article_text, (item.id, quote)


def test_answerable_items_have_answers_and_quotes(items):
    for item in items:
        assert bool(item.answers) == item.answerable, item.id
        assert bool(item.gold_quotes) == item.answerable, item.id


def test_set_has_sixty_items_a_quarter_unanswerable_or_false_premise(items):
    kinds = Counter(item.type for item in items)
    assert len(items) >= 60
    assert kinds["unanswerable"] + kinds["false-premise"] >= len(items) / 4
    assert {"factoid", "number", "who-said", "why", "multi-hop", "paraphrase"} <= set(kinds)
    assert {"unanswerable", "false-premise", "injection", "follow-up"} <= set(kinds)


def test_follow_ups_carry_history(items):
    assert all(item.history for item in items if item.type == "follow-up")
