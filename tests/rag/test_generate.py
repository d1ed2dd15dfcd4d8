"""The real SmolLM2 generator: stopping rules."""

from __future__ import annotations

MESSAGES = [
    {"role": "system", "content": "Answer in one long sentence."},
    {"role": "user", "content": "Describe the weather in a city you like."},
]


def test_give_up_stops_the_reply_early(generator):
    reply = generator.generate(MESSAGES, 32, 30.0, give_up=lambda text: len(text.split()) >= 3)
    assert generator.gave_up
    assert len(reply.split()) <= 4
    assert not generator.cut_off


def test_without_give_up_the_reply_runs_on(generator):
    reply = generator.generate(MESSAGES, 32, 30.0)
    assert not generator.gave_up
    assert len(reply.split()) > 4
