"""A generator on a real OpenAI-compatible server: llama.cpp's (``llama-cpp-python[server]``,
built into ``.venv-llama`` by ``make test``) serving the packaged SmolLM2 GGUF."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.config import PROJECT_ROOT
from rag.generate import smollm2_gguf
from rag.remote import RemoteGenerator

SERVER_PYTHON = Path(
    os.environ.get("VERBATIM_LLAMA_PYTHON", PROJECT_ROOT / ".venv-llama" / "bin" / "python")
)
QUESTION = "What figure did U.S. overdose deaths reach?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory) -> Iterator[str]:
    """llama.cpp's server on a free loopback port, serving SmolLM2 as ``smollm2``."""
    if not SERVER_PYTHON.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SERVER_PYTHON} is missing: `make llama-server` builds it")
        pytest.skip(f"{SERVER_PYTHON} is missing: `make llama-server` builds it")
    port = _free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("w")
    command = [str(SERVER_PYTHON), "-m", "llama_cpp.server", "--model", str(smollm2_gguf())]
    command += ["--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--n_ctx", "2048", "--n_threads", "2"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("llama.cpp's server did not start; see its log")
    yield url
    process.terminate()
    process.wait(30)
    log.close()


def test_server_writes_a_reply(server_url):
    outcome: dict = {}
    remote = RemoteGenerator(f"openai:{server_url}#smollm2")
    messages = [{"role": "user", "content": "Name a colour."}]
    reply = "".join(remote.stream(messages, 16, 60.0, outcome=outcome))
    assert reply.strip()
    assert "error" not in outcome


def test_pipeline_answers_with_the_server_as_writer(server_url, config, embedder, article_text):
    from rag.pipeline import Verbatim

    remote = RemoteGenerator(f"openai:{server_url}#smollm2")
    bot = Verbatim(config.replace(generation_timeout_s=60.0), embedder=embedder, generator=remote)
    answer = bot.ask(QUESTION)
    assert answer.complete and not answer.abstained
    assert answer.model == remote.name
    # The server was used: its reply either passed the quote check or was refused for a
    # stated reason, never for being out of reach.
    assert answer.mode == "generated" or answer.mode.startswith("extractive (")
    assert "unavailable" not in answer.mode
    for c in answer.citations:
        assert article_text[c.start : c.end] == c.quote


def test_server_that_went_away_falls_back_to_the_quotes(config, embedder):
    from rag.pipeline import Verbatim

    remote = RemoteGenerator(f"openai:http://127.0.0.1:{_free_port()}/v1#smollm2")
    bot = Verbatim(config, embedder=embedder, generator=remote)
    answer = bot.ask(QUESTION)
    assert answer.complete and not answer.abstained
    assert answer.citations
    assert "generator unavailable" in answer.mode
