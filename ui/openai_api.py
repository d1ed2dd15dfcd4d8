"""Verbatim behind the OpenAI chat-completions protocol: ``GET /v1/models`` and
``POST /v1/chat/completions``, with or without ``stream`` (docs/openai-api.md).

Chat front-ends (Open WebUI, LibreChat) and libraries (the ``openai`` client, LangChain,
LlamaIndex) speak this protocol. The reply's ``content`` is the answer with its ``[n]``
markers; the citations, with their character offsets, and the abstention flag travel in the
extra field ``verbatim`` of the response, and of the last chunk of a stream.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from rag.types import Answer, final_answer
from ui.guard import HISTORY_TURNS, Guard, body_limit, recent_history

logger = logging.getLogger(__name__)

MODEL_ID = "verbatim"
EXTRA_FIELD = "verbatim"
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
FAILURE = "The answer could not be computed; the server log says why."


class RequestError(ValueError):
    """A request the caller can fix; ``param`` names the field at fault."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def text_of(content: Any, where: str) -> str:
    """The text of a message's ``content``: a string, or a list of ``{"type": "text"}`` parts.

    Raises:
        RequestError: the content is neither, or a part is not text.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise RequestError(f"{where}: only text content parts are accepted", where)
            if not isinstance(part.get("text"), str):
                raise RequestError(f"{where}: a text part needs a string 'text'", where)
            texts.append(part["text"])
        return "".join(texts)
    raise RequestError(f"{where}: content must be a string or a list of text parts", where)


def split_messages(messages: Any, history_turns: int) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, from the user) and the earlier user and assistant
    messages of the last ``history_turns`` turns as history (system messages are not read:
    Verbatim has its own instructions).

    Raises:
        RequestError: ``messages`` is not a non-empty list of ``{"role", "content"}`` objects
            ending with a user message.
    """
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list", "messages")
    history = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise RequestError(f"{where}: needs a 'role' among {', '.join(sorted(ROLES))}", where)
        if message["role"] in ("user", "assistant"):
            text = text_of(message.get("content"), where)
            history.append({"role": message["role"], "content": text})
    if messages[-1].get("role") != "user":
        raise RequestError("the last message must be the user's question", "messages")
    question = history.pop()["content"]
    return question, recent_history(history, history_turns)


def extra(answer: Answer) -> dict[str, Any]:
    """What the protocol has no field for: the citations, the abstention flag and the rest."""
    data = answer.to_dict()
    return {
        "abstained": data["abstained"],
        "citations": data["citations"],
        "related": data["related"],
        "answer_quote": data.get("answer_quote"),
        "mode": data["mode"],
        "model": data["model"],
        "timings": data["timings"],
    }


def completion(answer: Answer, ident: str, created: int) -> dict[str, Any]:
    """A ``chat.completion`` object for ``answer``."""
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        EXTRA_FIELD: extra(answer),
    }


def chunk(ident: str, created: int, delta: dict[str, Any], finish: str | None = None) -> dict:
    """One ``chat.completion.chunk`` of a stream."""
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def sse(data: dict[str, Any] | str) -> str:
    """One server-sent event."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n"


def error_body(message: str, kind: str, param: str | None = None) -> dict[str, Any]:
    """An error in the protocol's shape."""
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def authorized(header: str | None, key: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``key`` as a bearer token (always, with no
    key set)."""
    if not key:
        return True
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), key)


class ChatCompletions:
    """Answers chat-completion requests with a Verbatim pipeline, one question at a time.

    Args:
        bot: A ``Verbatim`` pipeline (or the chat's loader, which has the same ``ask_stream``).
        history_turns: Earlier turns read as history; older ones are dropped.
    """

    def __init__(self, bot: Any, history_turns: int):
        self.bot = bot
        self.history_turns = history_turns
        self._lock = threading.Lock()

    def _final(self, question: str, history: Sequence[dict[str, str]]) -> Answer:
        with self._lock:
            return final_answer(self.bot.ask_stream(question, list(history)))

    def create(self, body: Any) -> dict[str, Any]:
        """The whole ``chat.completion`` for a request body.

        Raises:
            RequestError: the request is malformed, or the question is empty or too long.
        """
        question, history = self._parse(body)
        try:
            answer = self._final(question, history)
        except ValueError as exc:
            raise RequestError(str(exc), "messages") from exc
        return completion(answer, f"chatcmpl-{uuid.uuid4().hex}", int(time.time()))

    def stream(self, body: Any) -> Iterator[str]:
        """Server-sent events for a request body: the role first, the checked answer, then a
        last chunk carrying ``finish_reason`` and the ``verbatim`` field, and ``[DONE]``.

        The answer is sent once it has passed the quote check: a model reply that fails it is
        never shown, so nothing sent has to be taken back.

        Raises:
            RequestError: as :meth:`create`, before the first event.
        """
        question, history = self._parse(body)
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def events() -> Iterator[str]:
            yield sse(chunk(ident, created, {"role": "assistant", "content": ""}))
            try:
                answer = self._final(question, history)
            except ValueError as exc:
                yield sse(error_body(str(exc), "invalid_request_error", "messages"))
                return
            except Exception:
                logger.exception("/v1/chat/completions failed for %r", question[:200])
                yield sse(error_body(FAILURE, "server_error"))
                return
            yield sse(chunk(ident, created, {"content": answer.answer}))
            last = chunk(ident, created, {}, "stop")
            last[EXTRA_FIELD] = extra(answer)
            yield sse(last)
            yield sse("[DONE]")

        return events()

    def _parse(self, body: Any) -> tuple[str, list[dict[str, str]]]:
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise RequestError("'stream' must be true or false", "stream")
        return split_messages(body.get("messages"), self.history_turns)


def models() -> dict[str, Any]:
    """The ``GET /v1/models`` list: Verbatim is one model."""
    return {
        "object": "list",
        "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "verbatim"}],
    }


def build_api(bot: Any, api_key: str | None, max_body_bytes: int, history_turns: int) -> Any:
    """The FastAPI app serving the two routes for ``bot``.

    Args:
        bot: What answers (``ask_stream``).
        api_key: Bearer token every request must carry; None for none (loopback only).
        max_body_bytes: Larger request bodies get 413 before they are read.
        history_turns: Earlier turns (a question and its answer) read as history.
    """
    app = FastAPI(title="Verbatim OpenAI-compatible API", docs_url=None, redoc_url=None)
    app.add_middleware(Guard, max_body_bytes=max_body_bytes)
    chat = ChatCompletions(bot, history_turns)

    def refuse(status: int, message: str, kind: str, param: str | None = None) -> JSONResponse:
        return JSONResponse(error_body(message, kind, param), status_code=status)

    @app.middleware("http")
    async def check_key(request: Request, call_next: Any) -> Any:
        if not authorized(request.headers.get("authorization"), api_key):
            return refuse(401, "a valid bearer token is required", "invalid_api_key")
        return await call_next(request)

    @app.get("/v1/models")
    def list_models() -> dict[str, Any]:
        return models()

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        try:
            body = await request.json()
        except ValueError:
            return refuse(400, "the request body is not valid JSON", "invalid_request_error")
        try:
            if isinstance(body, dict) and body.get("stream") is True:
                events = chat.stream(body)
                return StreamingResponse(events, media_type="text/event-stream")
            return await run_in_threadpool(chat.create, body)
        except RequestError as exc:
            return refuse(400, str(exc), "invalid_request_error", exc.param)
        except Exception:
            logger.exception("/v1/chat/completions failed")
            return refuse(500, FAILURE, "server_error")

    return app


API_KEY_ENV = "VERBATIM_API_KEY"


def api_key_for(host: str, key: str | None) -> str | None:
    """The bearer token to require: ``key`` when set; none on loopback without one.

    Raises:
        ValueError: ``host`` is not loopback and no key is set.
    """
    from ui.app import is_loopback

    if key:
        return key
    if not is_loopback(host):
        raise ValueError(
            f"serving the API on {host} needs a bearer token: set {API_KEY_ENV}, or serve on "
            "127.0.0.1"
        )
    return None


def serve(bot: Any, host: str, port: int, key: str | None, max_question_chars: int) -> None:
    """Serve the API for ``bot`` on ``host:port`` until interrupted (loopback, or a key)."""
    import uvicorn

    token = api_key_for(host, key)
    app = build_api(bot, token, body_limit(max_question_chars), HISTORY_TURNS)
    logger.warning("OpenAI-compatible API on http://%s:%d/v1", host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")
