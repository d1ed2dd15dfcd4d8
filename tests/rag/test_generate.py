"""The real SmolLM2 generator: stopping rules."""

from __future__ import annotations

from rag.compose import SYSTEM_PROMPT

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


# --- the system message's keys and values, computed once -----------------------------------

QUOTED = [
    {"role": "system", "content": SYSTEM_PROMPT},
    {
        "role": "user",
        "content": "Quotes:\n[1] In 2019, China designated fentanyl as a controlled substance."
        "\n\nQuestion: What did China do in 2019?\nAnswer in one sentence:",
    },
]


def _reply_without_cache(generator, messages, max_new_tokens):
    import torch

    inputs = generator._inputs(messages)
    with torch.inference_mode():
        output = generator.model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=generator.tokenizer.eos_token_id,
        )
    new = output[0, inputs["input_ids"].shape[1] :]
    return generator.tokenizer.decode(new, skip_special_tokens=True)


def test_reply_after_the_cached_system_message_is_the_same_as_without(generator):
    first = generator.generate(QUOTED, 12, 30.0)
    again = generator.generate(QUOTED, 12, 30.0)
    assert generator._prefix is not None and generator._prefix[0] == SYSTEM_PROMPT
    assert first == again
    assert _reply_without_cache(generator, QUOTED, 12).startswith(first.strip())


def test_the_stored_system_cache_is_not_grown_by_a_reply(generator):
    generator.generate(QUOTED, 8, 30.0)
    system, ids, cache = generator._prefix
    generator.generate(QUOTED, 8, 30.0)
    assert generator._prefix[2] is cache
    assert cache.get_seq_length() == ids.shape[1]


def test_a_prompt_without_a_system_message_is_not_given_a_cache(generator):
    user_only = QUOTED[1:]
    inputs = generator._inputs(user_only)
    assert generator._system_cache(user_only, inputs["input_ids"]) is None
