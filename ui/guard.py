"""Limits in front of every route of the chat server (docs/security.md, "Hardening").

An ASGI middleware, :class:`Guard`, handed to Gradio's FastAPI app, answers before Gradio reads
anything:

* a request body over :func:`body_limit` bytes gets 413, whether it declares its length or is
  sent in chunks, so no oversized input reaches Gradio's session store;
* every upload gets 403 (the chat takes no files), whatever its size, even 0 bytes;
* a client with :data:`LOGIN_FAILURES` failed logins within :data:`LOGIN_WINDOW_S` seconds gets
  429 on ``POST /login`` until the window has passed; a successful login clears its count.

The decisions are small pure functions and :class:`LoginThrottle`, tested on their own.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]

# Earlier turns an /ask call may send as history (a turn: a question and its answer). The
# pipeline only reads the last one; the rest is kept for callers that send the whole chat.
HISTORY_TURNS = 10
# JSON may spell one character as "\uXXXX": six bytes. Bodies are measured in bytes.
BYTES_PER_CHAR = 6
# Field names, session hash, event data, form fields and the like, beyond the texts themselves.
OVERHEAD_BYTES = 16 * 1024
LOGIN_FAILURES = 5
LOGIN_WINDOW_S = 60.0
# Clients whose failures are remembered at once; the oldest is forgotten first.
LOGIN_CLIENTS = 10_000


def body_limit(max_question_chars: int, history_turns: int = HISTORY_TURNS) -> int:
    """Largest request body accepted, in bytes: a question and ``history_turns`` earlier
    turns (each a question and an answer) of up to ``max_question_chars`` characters each.

    Raises:
        ValueError: ``max_question_chars`` is below 1 or ``history_turns`` below 0.
    """
    if max_question_chars < 1:
        raise ValueError(f"max_question_chars must be at least 1, not {max_question_chars}")
    if history_turns < 0:
        raise ValueError(f"history_turns must be at least 0, not {history_turns}")
    texts = 1 + 2 * history_turns
    return texts * max_question_chars * BYTES_PER_CHAR + OVERHEAD_BYTES


def recent_history(history: Iterable[Any], turns: int = HISTORY_TURNS) -> list[Any]:
    """The last ``turns`` turns (two messages each) of a chat history."""
    messages = list(history)
    return messages[-2 * turns :] if turns > 0 else []


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case) in an ASGI scope, or None."""
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value
    return None


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when absent.

    Raises:
        ValueError: the header is not a non-negative whole number.
    """
    value = header(scope, b"content-length")
    if value is None:
        return None
    text = value.decode("latin-1").strip()
    if not text.isdigit():
        raise ValueError(f"Content-Length must be a whole number of bytes, not {text[:40]!r}")
    return int(text)


def is_upload(path: str) -> bool:
    """Whether ``path`` is Gradio's upload route (``/gradio_api/upload``, any prefix)."""
    return path.rstrip("/").rsplit("/", 1)[-1] == "upload"


def is_login(scope: Scope) -> bool:
    """Whether the request is a login attempt: ``POST /login`` (any prefix)."""
    path = str(scope.get("path", ""))
    return scope.get("method") == "POST" and path.rstrip("/").rsplit("/", 1)[-1] == "login"


def client_of(scope: Scope) -> str:
    """The client's address as the server saw it (a proxy in front makes them all one)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class LoginThrottle:
    """Failed logins per client within a sliding window.

    Not thread-safe: the middleware uses it from the server's event loop only.
    """

    def __init__(
        self,
        failures: int = LOGIN_FAILURES,
        window_s: float = LOGIN_WINDOW_S,
        clients: int = LOGIN_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ):
        """Allow ``failures`` failed logins per client within ``window_s`` seconds, keeping
        the failures of at most ``clients`` clients (the oldest forgotten first)."""
        if failures < 1 or window_s <= 0 or clients < 1:
            raise ValueError("failures and clients must be at least 1 and window_s positive")
        self.failures = failures
        self.window_s = window_s
        self.clients = clients
        self.clock = clock
        self._failed: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str) -> deque[float]:
        times = self._failed.get(client, deque())
        cutoff = self.clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            self._failed.pop(client, None)
        return times

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again; 0 when it may now."""
        times = self._recent(client)
        if len(times) < self.failures:
            return 0.0
        return max(times[-self.failures] + self.window_s - self.clock(), 0.0)

    def failed(self, client: str) -> None:
        """Count a failed login by ``client``."""
        times = self._recent(client)
        times.append(self.clock())
        self._failed[client] = times
        self._failed.move_to_end(client)
        while len(self._failed) > self.clients:
            self._failed.popitem(last=False)

    def succeeded(self, client: str) -> None:
        """Forget ``client``'s failures."""
        self._failed.pop(client, None)


async def respond(send: Send, status: int, text: str, headers: Iterable[tuple[str, str]] = ()):
    """Send a whole plain-text response."""
    body = (text + "\n").encode()
    raw = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class Guard:
    """ASGI middleware: body limit, no uploads, login throttle (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, throttle: LoginThrottle | None = None):
        """Wrap ``app``; bodies over ``max_body_bytes`` are refused."""
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.throttle = throttle if throttle is not None else LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        if is_upload(str(scope.get("path", ""))):
            await respond(send, 403, "Uploads are refused: the chat takes no files.")
            return
        try:
            declared = declared_length(scope)
        except ValueError as exc:
            await respond(send, 400, str(exc))
            return
        if declared is not None and declared > self.max_body_bytes:
            await respond(send, 413, self._too_large())
            return
        client = client_of(scope)
        login = is_login(scope)
        if login:
            wait = self.throttle.retry_after(client)
            if wait > 0:
                seconds = str(int(wait) + 1)
                text = f"Too many failed logins; try again in {seconds} s."
                await respond(send, 429, text, [("retry-after", seconds)])
                return
        if declared is not None or header(scope, b"transfer-encoding") is not None:
            body = await self._read_body(receive)
            if body is None:
                await respond(send, 413, self._too_large())
                return
            receive = replay(body, receive)
        if login:
            send = self._watch_login(client, send)
        await self.app(scope, receive, send)

    def _too_large(self) -> str:
        return f"Request body too large: at most {self.max_body_bytes} bytes are accepted."

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit (the rest is left unread)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away; the app will see that
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _watch_login(self, client: str, send: Send) -> Send:
        """``send``, counting the login as failed on a 4xx answer and clearing on success."""

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status < 400:
                    self.throttle.succeeded(client)
                elif status < 500:
                    self.throttle.failed(client)
            await send(message)

        return watched


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then whatever ``receive`` yields (such as the
    client's disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
