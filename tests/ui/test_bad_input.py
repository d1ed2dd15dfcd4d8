"""Bad questions through the Python API, ``/ask`` and the CLI: a clear message or a sensible,
verbatim-quoted answer, never a traceback, and the server keeps serving."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from rag.config import PROJECT_ROOT
from rag.types import Answer
from ui.app import FAILURE

gradio_client = pytest.importorskip("gradio_client")

EMPTY = "Please type a question about the article."
NORMAL = "What did China do in 2019?"

# Refused with a clear message.
REFUSED = {
    "empty": ("", EMPTY),
    "whitespace": ("  \t\n \r ", EMPTY),
    "control only": ("\x00\x1b\x07\x7f", EMPTY),
    "zero-width only": ("\u200b\u200d\ufeff", EMPTY),
    "ansi only": ("\x00\x1b[31m", EMPTY),
    "word joiner only": ("\u2060\u2060", EMPTY),
    "100k characters": ("why " * 25_000, "limit is 2,000"),
}
# Answered, or declined with related passages: either way a normal Answer.
ODD = {
    "ansi escape": "\x00\x1b[31m" + NORMAL + "\x1b[0m",
    "rtl override": "\u202e" + NORMAL + "\u202c",
    "rtl marks": "\u200f" + NORMAL + "\u200f",
    "math letters": "𝔽𝕖𝕟𝕥𝕒𝕟𝕪𝕝",
    "zalgo": "Z̷̢̛a̴l̸g̶o̵ f̷e̵n̶t̸a̴n̷y̶l̵",
    "spanish": "¿Cuántas muertes por sobredosis hubo?",
    "chinese": "中国在2019年做了什么？",
    "emoji": "💊❓",
    "markup": "<img src=x onerror=alert(1)> " + NORMAL,
    "just under the limit": NORMAL + " " + "x" * (2000 - len(NORMAL) - 1),
}


def _quotes_are_verbatim(result: dict[str, Any], documents: dict[str, Any]) -> None:
    for c in [*result["citations"], *result["related"]]:
        assert documents[c["source"]].text[c["start"] : c["end"]] == c["quote"]


def _is_sensible(result: dict[str, Any]) -> bool:
    """A final answer: declined with a reason, or answered with at least one quote."""
    if not result["complete"] or not result["answer"].strip():
        return False
    return result["abstained"] or bool(result["citations"])


# --- Python API ---------------------------------------------------------------------------


@pytest.mark.parametrize("question, message", REFUSED.values(), ids=REFUSED.keys())
def test_api_refuses_with_a_clear_message(bot, question, message):
    with pytest.raises(ValueError, match=message):
        bot.ask(question)


@pytest.mark.parametrize("question", ODD.values(), ids=ODD.keys())
def test_api_answers_odd_text_with_verbatim_quotes(bot, question):
    answer = bot.ask(question)
    assert isinstance(answer, Answer)
    result = answer.to_dict()
    assert _is_sensible(result)
    _quotes_are_verbatim(result, bot.documents)


def test_api_control_characters_do_not_change_the_answer(bot):
    plain = bot.ask(NORMAL)
    noisy = bot.ask("\x00What did\x07 China\u200b do in 2019?\x1b")
    assert noisy.answer == plain.answer
    assert [c.start for c in noisy.citations] == [c.start for c in plain.citations]


def test_api_lone_surrogate_is_dropped_and_the_question_answered(extractive_bot):
    noisy = extractive_bot.ask("\ud800 " + NORMAL)
    assert noisy.answer == extractive_bot.ask(NORMAL).answer


def test_api_terminal_colour_codes_are_dropped(extractive_bot):
    noisy = extractive_bot.ask("\x1b[31m" + NORMAL + "\x1b[0m")
    assert noisy.answer == extractive_bot.ask(NORMAL).answer


# --- /ask on a launched server ------------------------------------------------------------


@pytest.fixture
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


@pytest.mark.parametrize("question, message", REFUSED.values(), ids=REFUSED.keys())
def test_ask_refuses_with_a_clear_message(client, question, message):
    result = client.predict(question, api_name="/ask")
    assert set(result) == {"error"}
    assert message in result["error"] and "Traceback" not in result["error"]


@pytest.mark.parametrize("question", ODD.values(), ids=ODD.keys())
def test_ask_answers_odd_text_with_verbatim_quotes(client, bot, question):
    result = client.predict(question, api_name="/ask")
    assert "error" not in result, result
    assert _is_sensible(result)
    _quotes_are_verbatim(result, bot.documents)


def test_ask_history_of_the_wrong_shape_is_not_a_crash(client):
    result = client.predict(NORMAL, [{"role": "user"}, {"content": 5}], api_name="/ask")
    assert result.get("error") != FAILURE
    assert "Traceback" not in str(result)


def test_server_keeps_answering_after_bad_input(client, bot):
    for question, _ in REFUSED.values():
        client.predict(question, api_name="/ask")
    for question in ODD.values():
        client.predict(question, api_name="/ask")
    result = client.predict(NORMAL, api_name="/ask")
    assert result == {**bot.ask(NORMAL).to_dict(), "timings": result["timings"]}


# --- CLI ----------------------------------------------------------------------------------


def _rag(config, *args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "VERBATIM_INDEX_DIR": config.index_dir,
        "VERBATIM_CORPUS": os.pathsep.join(config.corpus),
    }
    rag = str(PROJECT_ROOT / ".venv" / "bin" / "rag")
    return subprocess.run(
        [rag, "ask", "--generator", "none", *args],
        capture_output=True,
        env=env,
        timeout=300,
        cwd=PROJECT_ROOT,
    )


@pytest.mark.parametrize("question", ["", "why " * 25_000], ids=["empty", "100k characters"])
def test_cli_refuses_with_a_clear_message(config, extractive_bot, question):
    done = _rag(config, question)
    err = done.stderr.decode()
    assert done.returncode == 2
    assert "Traceback" not in err
    assert f"rag: error: {EMPTY}" in err or "rag: error: Your question is 99,999" in err


def test_cli_question_that_is_not_utf8_is_answered(config, extractive_bot):
    done = _rag(config, b"\xed\xa0\x80 " + NORMAL.encode())
    assert "Traceback" not in done.stderr.decode(errors="replace")
    assert done.returncode == 0
    # The stray bytes are dropped and the question is answered from the 2019 sentence.
    assert "controlled substance" in done.stdout.decode()
