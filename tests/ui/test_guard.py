"""Hardening (#16): request-body limit, no uploads, login throttle (ui/guard.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ui import guard
from ui.guard import Guard, LoginThrottle, body_limit, recent_history

gradio_client = pytest.importorskip("gradio_client")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- pure decisions -----------------------------------------------------------------------


def test_body_limit_leaves_room_for_a_question_and_its_history():
    limit = body_limit(2000, history_turns=10)
    assert limit == 21 * 2000 * guard.BYTES_PER_CHAR + guard.OVERHEAD_BYTES
    assert limit < 1024 * 1024  # far below the 20 MB bodies that grew the server


@pytest.mark.parametrize("chars, turns", [(0, 10), (2000, -1)])
def test_body_limit_refuses_nonsense(chars, turns):
    with pytest.raises(ValueError, match="must be at least"):
        body_limit(chars, turns)


def test_recent_history_keeps_the_last_turns():
    history = [{"role": "user", "content": str(i)} for i in range(30)]
    assert recent_history(history, 3) == history[-6:]
    assert recent_history(history[:4], 3) == history[:4]
    assert recent_history(history, 0) == []


@pytest.mark.parametrize(
    "headers, expected",
    [([], None), ([(b"content-length", b"12")], 12), ([(b"Content-Length", b" 0 ")], 0)],
)
def test_declared_length(headers, expected):
    assert guard.declared_length({"headers": headers}) == expected


@pytest.mark.parametrize("value", [b"-1", b"12abc", b"", b"1e9"])
def test_declared_length_refuses_malformed_headers(value):
    with pytest.raises(ValueError, match="whole number"):
        guard.declared_length({"headers": [(b"content-length", value)]})


@pytest.mark.parametrize(
    "path, upload",
    [
        ("/gradio_api/upload", True),
        ("/gradio_api/upload/", True),
        ("/prefix/gradio_api/upload", True),
        ("/upload", True),
        ("/gradio_api/upload_progress", False),
        ("/gradio_api/queue/join", False),
    ],
)
def test_is_upload(path, upload):
    assert guard.is_upload(path) is upload


def test_is_login_only_for_posts():
    assert guard.is_login({"method": "POST", "path": "/login/"})
    assert not guard.is_login({"method": "GET", "path": "/login"})
    assert not guard.is_login({"method": "POST", "path": "/login_check"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_blocks_after_five_failures_in_a_minute():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(4):
        throttle.failed("a")
        clock.now += 1
    assert throttle.retry_after("a") == 0
    throttle.failed("a")
    assert throttle.retry_after("a") == pytest.approx(56.0)
    assert throttle.retry_after("b") == 0  # per client


def test_throttle_forgets_failures_after_the_window():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(5):
        throttle.failed("a")
    clock.now += 60.0
    assert throttle.retry_after("a") == 0


def test_throttle_resets_on_success():
    throttle = LoginThrottle(clock=Clock())
    for _ in range(4):
        throttle.failed("a")
    throttle.succeeded("a")
    throttle.failed("a")
    assert throttle.retry_after("a") == 0


def test_throttle_remembers_a_bounded_number_of_clients():
    throttle = LoginThrottle(clients=3, clock=Clock())
    for client in "abcde":
        throttle.failed(client)
    assert list(throttle._failed) == ["c", "d", "e"]


# --- the middleware on a stub app ---------------------------------------------------------


def run_guard(scope: dict[str, Any], chunks: list[bytes], limit: int = 10) -> tuple[int, bytes]:
    """Status of the response and the body the wrapped app read (b"" if it was not called)."""
    seen: list[bytes] = []
    sent: list[dict[str, Any]] = []
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    base = {"type": "http", "method": "POST", "path": "/gradio_api/queue/join", "headers": []}
    asyncio.run(Guard(app, limit)({**base, **scope}, receive, send))
    return sent[0]["status"], b"".join(seen)


def test_guard_passes_small_chunked_bodies_whole():
    chunked = {"headers": [(b"transfer-encoding", b"chunked")]}
    assert run_guard(chunked, [b"abcd", b"efgh"]) == (200, b"abcdefgh")


def test_guard_refuses_chunked_bodies_past_the_limit_unread_by_the_app():
    chunked = {"headers": [(b"transfer-encoding", b"chunked")]}
    assert run_guard(chunked, [b"abcdef", b"ghijkl"]) == (413, b"")


def test_guard_refuses_declared_oversized_bodies_before_reading():
    declared = {"headers": [(b"content-length", b"11")]}
    assert run_guard(declared, []) == (413, b"")


def test_guard_refuses_uploads_of_any_size():
    assert run_guard({"path": "/gradio_api/upload"}, [b""]) == (403, b"")


# --- a launched server --------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(extractive_bot, tmp_path_factory) -> Iterator[tuple[str, Any, Path]]:
    """The chat around the extractive pipeline, with its own Gradio upload folder."""
    from ui.app import build_app, launch

    upload_dir = tmp_path_factory.mktemp("gradio_uploads")
    app = build_app(extractive_bot)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_TEMP_DIR", str(upload_dir))
        url = launch(app, "127.0.0.1", free_port(), quiet=True)
    yield url, app, upload_dir
    app.close()


def _join_body(app: Any, question: str, session_hash: str) -> dict[str, Any]:
    fn_index = next(i for i, fn in app.fns.items() if fn.api_name == "ask")
    return {"data": [question, [], None], "fn_index": fn_index, "session_hash": session_hash}


def test_oversized_ask_gets_413_and_stays_out_of_the_session_store(served):
    url, app, _ = served
    session = uuid.uuid4().hex
    body = _join_body(app, "x" * (2 * app.verbatim_max_body_bytes), session)
    response = httpx.post(url + "gradio_api/queue/join", json=body, timeout=60)
    assert response.status_code == 413
    assert session not in app.state_holder.session_data


def test_oversized_chunked_body_gets_413(served):
    url, app, _ = served
    session = uuid.uuid4().hex

    head, tail = json.dumps(_join_body(app, "@", session)).encode().split(b"@")

    def chunks() -> Iterator[bytes]:  # a valid body, sent without a Content-Length
        yield head
        for _ in range(app.verbatim_max_body_bytes // 65536 + 2):
            yield b"x" * 65536
        yield tail

    headers = {"content-type": "application/json"}
    response = httpx.post(
        url + "gradio_api/queue/join", content=chunks(), headers=headers, timeout=60
    )
    assert response.status_code == 413
    assert session not in app.state_holder.session_data


def test_a_question_with_full_history_fits_the_limit(served):
    url, _, _ = served
    turn = [{"role": "user", "content": "é" * 2000}, {"role": "assistant", "content": "a" * 2000}]
    client = gradio_client.Client(url, verbose=False)
    result = client.predict("What did China do in 2019?", turn * 10, api_name="/ask")
    assert "error" not in result and result["citations"]


def test_sessions_kept_in_memory_are_bounded(served):
    from ui.app import SESSION_CAPACITY

    _, app, _ = served
    assert app.state_holder.capacity == SESSION_CAPACITY <= 1000


@pytest.mark.parametrize("content", [b"", b"x"], ids=["0 bytes", "1 byte"])
def test_tiny_uploads_are_refused_and_not_stored(served, content):
    url, _, upload_dir = served
    files = {"files": ("note.txt", content, "text/plain")}
    response = httpx.post(url + "gradio_api/upload", files=files, timeout=30)
    assert response.status_code == 403
    assert [p for p in upload_dir.rglob("*") if p.is_file()] == []


@pytest.fixture(scope="module")
def locked(extractive_bot) -> Iterator[str]:
    """The chat with ``auth=("ann", "pw")``."""
    from ui.app import build_app, launch

    app = build_app(extractive_bot)
    yield launch(app, "127.0.0.1", free_port(), quiet=True, auth=("ann", "pw"))
    app.close()


def _login(url: str, source: str, password: str) -> httpx.Response:
    """POST /login from the local address ``source`` (any 127.x.y.z is this machine)."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        form = {"username": "ann", "password": password}
        return client.post(url + "login", data=form)


def test_failed_logins_are_throttled_per_client(locked):
    statuses = [_login(locked, "127.0.0.3", "wrong").status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    refused = _login(locked, "127.0.0.3", "pw")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    # Another client is not held back by those failures.
    assert _login(locked, "127.0.0.2", "pw").status_code == 200
    client = gradio_client.Client(locked, auth=("ann", "pw"), verbose=False)
    assert client.predict("What did China do in 2019?", api_name="/ask")["citations"]
