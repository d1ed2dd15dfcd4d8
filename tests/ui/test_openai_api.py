"""The OpenAI-compatible API, served by uvicorn around the real models and called with the
official ``openai`` package. The questions are written for these tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

from ui.openai_api import (
    EXTRA_FIELD,
    RequestError,
    api_key_for,
    authorized,
    build_api,
    split_messages,
    text_of,
)

KEY = "test-key-7f3a"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def start_api() -> Iterator[Callable[..., str]]:
    """Start ``build_api(bot, key)`` under uvicorn on a free port; return its ``/v1`` URL."""
    import uvicorn

    servers = []

    def start(bot: Any, key: str | None, max_body_bytes: int = 200_000) -> str:
        port = _free_port()
        app = build_api(bot, key, max_body_bytes, 10)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for server in servers:
        server.should_exit = True


@pytest.fixture(scope="module")
def api(start_api, bot) -> str:
    return start_api(bot, KEY)


@pytest.fixture
def client(api) -> openai.OpenAI:
    return openai.OpenAI(base_url=api, api_key=KEY, max_retries=0, timeout=120)


def _cited(extra: dict[str, Any], article_text: str) -> list[dict[str, Any]]:
    citations = extra["citations"]
    for c in citations:
        assert article_text[c["start"] : c["end"]] == c["quote"]
    return citations


def test_models_lists_verbatim(client):
    assert [m.id for m in client.models.list()] == ["verbatim"]


def test_completion_carries_answer_and_checked_citations(client, article_text):
    reply = client.chat.completions.create(
        model="verbatim",
        messages=[{"role": "user", "content": "What figure did U.S. overdose deaths reach?"}],
    )
    content = reply.choices[0].message.content
    extra = reply.model_extra[EXTRA_FIELD]
    assert "[1]" in content
    assert extra["abstained"] is False
    assert "105,000" in _cited(extra, article_text)[0]["quote"]


def test_stream_sends_the_answer_then_the_citations(client, article_text):
    stream = client.chat.completions.create(
        model="verbatim",
        messages=[{"role": "user", "content": "What figure did U.S. overdose deaths reach?"}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "[1]" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    extra = chunks[-1].model_extra[EXTRA_FIELD]
    assert "105,000" in _cited(extra, article_text)[0]["quote"]


def test_off_topic_question_is_flagged_as_abstained(client):
    reply = client.chat.completions.create(
        model="verbatim",
        messages=[{"role": "user", "content": "What is the best recipe for sourdough bread?"}],
    )
    assert reply.model_extra[EXTRA_FIELD]["abstained"] is True
    assert reply.model_extra[EXTRA_FIELD]["citations"] == []


def test_history_reaches_the_pipeline(client, bot):
    first = "Who is Vanda Felbab-Brown?"
    answer = client.chat.completions.create(
        model="verbatim", messages=[{"role": "user", "content": first}]
    )
    history = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": answer.choices[0].message.content},
    ]
    follow_up = "Which institution is she at?"
    reply = client.chat.completions.create(
        model="verbatim",
        messages=[
            {"role": "system", "content": "You are helpful."},
            *history,
            {"role": "user", "content": follow_up},
        ],
    )
    alone = bot.ask(follow_up)
    with_history = bot.ask(follow_up, history)
    # The follow-up reads differently with the history than without it, and the API gives
    # what the pipeline gives with that history.
    assert [c.quote for c in alone.citations] != [c.quote for c in with_history.citations]
    extra = reply.model_extra[EXTRA_FIELD]
    assert [c["quote"] for c in extra["citations"]] == [c.quote for c in with_history.citations]


def test_wrong_key_is_refused(api):
    client = openai.OpenAI(base_url=api, api_key="not-the-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_too_long_question_is_a_bad_request(client):
    with pytest.raises(openai.BadRequestError, match="limit"):
        client.chat.completions.create(
            model="verbatim", messages=[{"role": "user", "content": "why " * 1000}]
        )


def test_oversized_body_is_refused_before_it_is_read(api):
    body = b'{"messages": [{"role": "user", "content": "' + b"a" * 300_000 + b'"}]}'
    response = httpx.post(
        f"{api}/chat/completions",
        content=body,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_text_parts_are_joined():
    assert text_of([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "m") == "ab"


def test_image_parts_are_refused():
    with pytest.raises(RequestError, match="text"):
        text_of([{"type": "image_url", "image_url": {"url": "x"}}], "messages[0]")


def test_last_message_must_be_the_users():
    with pytest.raises(RequestError, match="last message"):
        split_messages([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], 9)


def test_history_is_capped_to_the_latest_messages():
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": str(i)} for i in range(9)
    ]
    question, history = split_messages(messages, 2)
    assert question == "8"
    assert [m["content"] for m in history] == ["4", "5", "6", "7"]


def test_bearer_token_must_match():
    assert authorized("Bearer k1", "k1")
    assert not authorized("Bearer k2", "k1")
    assert not authorized(None, "k1")
    assert authorized(None, None)


def test_off_loopback_needs_a_key():
    with pytest.raises(ValueError, match="VERBATIM_API_KEY"):
        api_key_for("0.0.0.0", None)
    assert api_key_for("127.0.0.1", None) is None


def test_serve_api_command_answers_the_openai_client(extractive_bot, config, tmp_path):
    import os
    import subprocess
    import sys

    port = _free_port()
    env = {**os.environ, "VERBATIM_INDEX_DIR": config.index_dir, "VERBATIM_API_KEY": ""}
    command = [sys.executable, "-m", "rag.cli", "serve-api", "--port", str(port)]
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([*command, "--generator", "none"], env=env, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"{url}/models", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=60)
        reply = client.chat.completions.create(
            model="verbatim",
            messages=[{"role": "user", "content": "What figure did U.S. overdose deaths reach?"}],
        )
        assert "105,000" in reply.model_extra[EXTRA_FIELD]["citations"][0]["quote"]
    finally:
        process.terminate()
        process.wait(30)
        log.close()
