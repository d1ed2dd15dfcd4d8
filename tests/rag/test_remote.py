"""The OpenAI-compatible generator client: its spec, its event parsing, and what it does when
the server is down or silent (real sockets; the end-to-end test against a real llama.cpp
server is tests/rag/test_remote_server.py)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from rag.remote import RemoteGenerator, is_remote, parse_spec, pieces, server_error

MESSAGES = [{"role": "user", "content": "Say hello."}]


def test_spec_gives_url_and_model():
    assert parse_spec("openai:http://127.0.0.1:11434/v1/#qwen2.5:7b") == (
        "http://127.0.0.1:11434/v1",
        "qwen2.5:7b",
    )


@pytest.mark.parametrize("spec", ["openai:127.0.0.1:8080#m", "openai:http://h/v1", "openai:"])
def test_bad_spec_says_the_expected_shape(spec):
    with pytest.raises(ValueError, match="openai:<base URL>#<model>"):
        parse_spec(spec)


def test_only_the_prefix_makes_a_remote_generator():
    assert is_remote("openai:http://h/v1#m")
    assert not is_remote("smollm2")


def test_server_error_reads_the_openai_error_message():
    body = b'{"error": {"message": "model \\"x\\" not found", "type": "invalid_request_error"}}'
    assert server_error(404, body) == 'HTTP 404: model "x" not found'


def test_server_error_keeps_a_plain_body_on_one_line():
    assert server_error(502, b"Bad\ngateway") == "HTTP 502: Bad gateway"


def test_pieces_reads_deltas_until_done():
    lines = [
        'data: {"choices": [{"delta": {"role": "assistant"}, "finish_reason": null}]}',
        "",
        'data: {"choices": [{"delta": {"content": "Hi"}, "finish_reason": null}]}',
        'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}',
        "data: [DONE]",
        'data: {"choices": [{"delta": {"content": "after the end"}}]}',
    ]
    assert list(pieces(iter(lines))) == [("", None), ("Hi", None), ("", "stop")]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_is_one_line_and_no_reply():
    port = _closed_port()
    outcome: dict = {}
    remote = RemoteGenerator(f"openai:http://127.0.0.1:{port}/v1#m")
    assert list(remote.stream(MESSAGES, 16, 5.0, outcome=outcome)) == []
    assert f"127.0.0.1:{port}" in outcome["error"]
    assert "\n" not in outcome["error"]
    assert outcome["cut_off"] is True


def test_silent_server_is_abandoned_at_the_deadline():
    # A server that accepts the connection and never answers.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    port = listener.getsockname()[1]
    outcome: dict = {}
    started = time.monotonic()
    reply = list(
        RemoteGenerator(f"openai:http://127.0.0.1:{port}/v1#m").stream(
            MESSAGES, 16, 1.0, outcome=outcome
        )
    )
    elapsed = time.monotonic() - started
    listener.close()
    assert reply == []
    assert "no reply within 1 s" in outcome["error"]
    assert elapsed < 5.0
