"""The real SmolLM2 generator: stopping rules."""

from __future__ import annotations

import threading
import time

import pytest

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


# --- a model step that hangs past the deadline ---------------------------------------------

HANG_S = 8.0
# Past the deadline a reply may take the grace for the step under way, plus scheduling slack.
MARGIN_S = 0.5 + 0.7


@pytest.fixture
def hang_first_step(generator, monkeypatch):
    """Make the model's first forward call outside the main thread sleep ``HANG_S`` first
    (the likelihood scorer runs in the caller's thread and stays fast). Waits at the end for
    the sleeping thread to finish, so no later test shares the model with it."""
    real = generator.model.forward
    hung: list[threading.Thread] = []

    def forward(*args, **kwargs):
        here = threading.current_thread()
        if here is not threading.main_thread() and not hung:
            hung.append(here)
            time.sleep(HANG_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(generator.model, "forward", forward)
    yield hung
    for thread in hung:
        thread.join(HANG_S + 30)


def test_a_hung_model_step_ends_the_reply_at_the_deadline(generator, hang_first_step):
    outcome: dict[str, bool] = {}
    started = time.monotonic()
    reply = generator.generate(MESSAGES, 32, 1.0, outcome=outcome)
    assert time.monotonic() - started < 1.0 + MARGIN_S
    assert reply == "" and outcome["cut_off"]
    (hung,) = hang_first_step
    assert hung.is_alive()  # torch cannot stop it; it is abandoned, not waited for
    assert not generator.lock.locked()


def test_the_next_request_runs_while_an_abandoned_step_still_hangs(generator, hang_first_step):
    generator.generate(MESSAGES, 32, 1.0)
    started = time.monotonic()
    reply = generator.generate(MESSAGES, 6, 30.0)
    assert len(reply.split()) >= 2
    (hung,) = hang_first_step
    assert hung.is_alive(), "the second reply waited for the hung step"
    assert time.monotonic() - started < HANG_S - 1.0
    # Once its step returns, the abandoned worker stops at its next check.
    hung.join(HANG_S + 30)
    assert not hung.is_alive()


def test_the_answer_falls_back_to_the_quotes_on_time_and_the_next_one_too(
    config, embedder, generator, hang_first_step
):
    from rag.pipeline import Verbatim

    timeout = 3.0
    writer = Verbatim(
        config.replace(writer="model", generation_timeout_s=timeout),
        embedder=embedder,
        generator=generator,
    )
    first = writer.ask("What did China do in 2019?")
    assert first.timings["generate_s"] < timeout + MARGIN_S
    assert first.mode.startswith("extractive") and not first.abstained
    assert first.answer.startswith(first.citations[0].quote)
    parts = list(writer.ask_stream("How many people died of overdoses in the U.S. last year?"))
    assert parts[-1].timings["generate_s"] < timeout + MARGIN_S
    assert not parts[-1].abstained
    written = max((p.answer for p in parts[:-1]), key=len)
    assert written.strip(), "the model did not get to write the second answer"


def test_a_busy_model_lock_ends_the_reply_at_the_deadline(generator):
    held = threading.Event()

    def hold() -> None:
        with generator.lock:
            held.set()
            time.sleep(4.0)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    outcome: dict[str, bool] = {}
    started = time.monotonic()
    try:
        reply = generator.generate(MESSAGES, 32, 0.5, outcome=outcome)
        assert time.monotonic() - started < 0.5 + MARGIN_S
        assert reply == "" and outcome["cut_off"]
    finally:
        holder.join()


def test_the_model_lock_is_held_while_a_reply_is_written(generator):
    pieces = generator.stream(MESSAGES, 8, 30.0)
    next(pieces)
    assert generator.lock.locked()  # the likelihood scorer waits its turn
    list(pieces)
    assert not generator.lock.locked()
