"""The real SmolLM2 generator: stopping rules."""

from __future__ import annotations

MESSAGES = [
    {"role": "system", "content": "Answer in one long sentence."},
    {"role": "user", "content": "Describe the weather in a city you like."},
]


def test_give_up_stops_the_reply_early(generator):
    outcome: dict[str, bool] = {}
    reply = generator.generate(
        MESSAGES, 32, 30.0, give_up=lambda text: len(text.split()) >= 3, outcome=outcome
    )
    assert outcome == {"gave_up": True, "cut_off": False}
    assert len(reply.split()) <= 4


def test_without_give_up_the_reply_runs_on(generator):
    outcome: dict[str, bool] = {}
    reply = generator.generate(MESSAGES, 32, 30.0, outcome=outcome)
    assert not outcome["gave_up"]
    assert len(reply.split()) > 4


def test_reply_stopped_by_the_budget_is_cut_off(generator):
    outcome: dict[str, bool] = {}
    generator.generate(MESSAGES, 3, 30.0, outcome=outcome)
    assert outcome["cut_off"]
