"""A generator behind an OpenAI-compatible server (Ollama, the llama.cpp server, vLLM, LM
Studio): ``--generator openai:http://127.0.0.1:11434/v1#qwen2.5:7b``.

Its replies go through the same quote checks and deadline as the local model's; any failure to
reach it (refused connection, timeout, unknown model) is one logged line, and the answer falls
back to the quotes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from rag.generate import sentence_ended

logger = logging.getLogger(__name__)

PREFIX = "openai:"
# A server that does not accept the connection within this many seconds is down.
CONNECT_TIMEOUT_S = 5.0


def is_remote(generator: str) -> bool:
    """Whether ``generator`` names an OpenAI-compatible server."""
    return generator.startswith(PREFIX)


def parse_spec(generator: str) -> tuple[str, str]:
    """The base URL and model id of ``openai:<base URL>#<model>``.

    Raises:
        ValueError: the spec is not of that shape.
    """
    spec = generator.removeprefix(PREFIX)
    url, _, model = spec.partition("#")
    if not url.startswith(("http://", "https://")) or not model:
        raise ValueError(
            f"generator {generator!r}: expected openai:<base URL>#<model>, e.g. "
            "openai:http://127.0.0.1:11434/v1#qwen2.5:7b"
        )
    return url.rstrip("/"), model


def server_error(status: int, body: bytes) -> str:
    """One line saying why the server refused a request, from its error body if it has one."""
    try:
        data = json.loads(body)
        message = data.get("error", data)
        message = message.get("message", message) if isinstance(message, dict) else message
    except (ValueError, AttributeError):
        message = body.decode("utf-8", "replace")
    return f"HTTP {status}: {' '.join(str(message).split())[:200]}"


def pieces(lines: Iterator[str]) -> Iterator[tuple[str, str | None]]:
    """``(text, finish_reason)`` of each chunk of a chat-completions event stream."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        event = json.loads(data)
        if "error" in event:
            raise ValueError(server_error(200, data.encode()))
        for choice in event.get("choices") or ():
            yield (choice.get("delta") or {}).get("content") or "", choice.get("finish_reason")


class RemoteGenerator:
    """A chat model on an OpenAI-compatible server, with the local generator's interface.

    Args:
        generator: ``openai:<base URL>#<model>``.
        api_key: Sent as a bearer token when given.
    """

    def __init__(self, generator: str, api_key: str | None = None):
        self.url, self.model_id = parse_spec(generator)
        self.api_key = api_key
        self.name = f"{self.model_id} at {self.url}"
        self._lock = threading.Lock()

    @property
    def lock(self) -> threading.Lock:
        """Held while a reply is written: one at a time, like the local model."""
        return self._lock

    def stream(
        self,
        messages: list[dict[str, str]],
        max_new_tokens: int,
        timeout_s: float,
        give_up: Callable[[str], bool] | None = None,
        outcome: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as the server writes them; stop at the budget, the deadline, the
        end of the first sentence, or as soon as ``give_up(reply_so_far)`` is true.

        ``outcome`` is filled as by the local generator (``gave_up``, ``cut_off``), plus
        ``error``: why the server could not be used, in one line, when it could not.
        """
        import httpx

        result = outcome if outcome is not None else {}
        result.update(gave_up=False, cut_off=False)
        body = {
            "model": self.model_id,
            "messages": messages,
            "max_tokens": max_new_tokens,
            "temperature": 0,
            "stream": True,
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        timeout = httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
        reply, finished = "", False
        with self._lock:
            started = time.monotonic()
            try:
                with httpx.stream(
                    "POST",
                    f"{self.url}/chat/completions",
                    json=body,
                    headers=headers,
                    timeout=timeout,
                ) as response:
                    # A server that goes quiet mid-reply is cut off at the deadline.
                    timer = threading.Timer(timeout_s, response.close)
                    timer.start()
                    try:
                        if response.status_code != 200:
                            raise ValueError(server_error(response.status_code, response.read()))
                        for text, finish in pieces(response.iter_lines()):
                            reply += text
                            if text:
                                yield text
                            if give_up is not None and give_up(reply):
                                result["gave_up"] = True
                                return
                            if sentence_ended(reply):
                                finished = True
                                return
                            if finish is not None:
                                finished = finish == "stop"
                                return
                    finally:
                        timer.cancel()
            except (httpx.HTTPError, ValueError, RuntimeError) as exc:
                late = time.monotonic() - started >= timeout_s
                why = f"no reply within {timeout_s:g} s" if late else " ".join(str(exc).split())
                result["error"] = f"{self.name}: {why or type(exc).__name__}"
                logger.warning("generator %s; answering from the quotes", result["error"])
            finally:
                result["cut_off"] = not finished and not result["gave_up"]
