"""The running chat server, driven through ``gradio_client``: streaming chat and ``/ask``."""

from __future__ import annotations

import logging

import pytest

from ui.app import FAILURE

gradio_client = pytest.importorskip("gradio_client")

UNANSWERABLE = "What did Justin Trudeau say about fentanyl precursors?"


@pytest.fixture
def client(app_url):
    """A new client, so each test starts a new chat session."""
    return gradio_client.Client(app_url, verbose=False)


def _last_text(messages: list[dict]) -> str:
    content = messages[-1]["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def test_chat_streams_and_ends_with_a_cited_answer(client):
    job = client.submit("What did China do in 2019?", api_name="/chat")
    updates = list(job)
    assert len(updates) > 1
    assert "va-pending" in _last_text(updates[0][0])
    messages, article, _ = updates[-1]
    final = _last_text(messages)
    assert 'class="va va-answer"' in final
    assert '<blockquote class="vq-src">' in final and 'href="#vq-1-1"' in final
    assert "va-timings" in final and "2019" in final
    assert '<mark class="vq" id="vq-1-1"' in article
    # Some update before the last already showed the quotes, before the answer was done.
    assert any("va-partial" in _last_text(u[0]) for u in updates[:-1])


def test_ask_returns_citations_that_are_verbatim(client, article_text):
    result = client.predict(
        "How many overdose deaths were there in the U.S. last year?", api_name="/ask"
    )
    assert not result["abstained"] and result["complete"]
    assert result["citations"]
    for c in result["citations"]:
        assert article_text[c["start"] : c["end"]] == c["quote"]
    assert any("105,000" in c["quote"] for c in result["citations"])
    assert set(result["timings"]) >= {"retrieve_s", "generate_s", "total_s"}


def test_ask_takes_history_and_k(client):
    history = [
        {"role": "user", "content": "Who is Todd D. Robinson?"},
        {"role": "assistant", "content": "An assistant secretary of state. [1]"},
    ]
    question = "Did he say the PRC directs the drug shipments?"
    result = client.predict(question, history, 2, api_name="/ask")
    assert "error" not in result and result["question"] == question
    # "he" was read from the history: the answer quotes Robinson's own words.
    assert not result["abstained"]
    assert any("no evidence" in c["quote"] for c in result["citations"])


def test_unanswerable_question_abstains(client, article_text):
    result = client.predict(UNANSWERABLE, api_name="/ask")
    assert result["abstained"] and not result["citations"]
    assert result["answer"].startswith("The article doesn't say")
    for c in result["related"]:
        assert article_text[c["start"] : c["end"]] == c["quote"]
    messages, article, _ = client.predict(UNANSWERABLE, api_name="/chat")
    final = _last_text(messages)
    assert 'class="va va-abstain"' in final and "Related passages" in final
    assert '<mark class="vq"' not in article and 'class="vq-related"' in article


def test_bad_questions_give_clear_errors_and_the_server_keeps_serving(client, bot):
    assert client.predict("", api_name="/ask") == {
        "error": "Please type a question about the article."
    }
    too_long = "why " * bot.config.max_question_chars
    assert "limit is" in client.predict(too_long, api_name="/ask")["error"]
    messages, _, _ = client.predict("   ", api_name="/chat")
    assert "⚠️ Please type a question about the article." in _last_text(messages)
    messages, _, textbox = client.predict(too_long, api_name="/chat")
    assert _last_text(messages).startswith('<div class="va va-error"')
    assert textbox == too_long  # given back to be shortened
    result = client.predict("What did China do in 2019?", api_name="/ask")
    assert result["citations"] and not result["abstained"]


class StubBot:
    """No models: answers "ok", fails otherwise, and records what it was called with."""

    def __init__(self, config):
        from rag.types import Document

        self.config = config
        self.documents = {"doc.txt": Document("doc.txt", "Alpha beta.\nGamma delta.", "x")}
        self.calls: list[tuple] = []

    def ask_stream(self, question, history=None, k=None):
        from rag.types import Answer, Citation

        self.calls.append((question, history, k))
        if not question.strip():
            raise ValueError("Please type a question about the article.")
        if question != "ok":
            raise RuntimeError("the model fell over")
        cited = (Citation(1, "Gamma delta.", "doc.txt", 12, 24, 2, 0.9),)
        yield Answer(question, "", False, citations=cited, complete=False, mode="partial")
        yield Answer(question, "Gamma delta. [1]", False, citations=cited, timings={"total_s": 0})


@pytest.fixture(scope="module")
def stub(serve, config):
    bot = StubBot(config)
    return bot, gradio_client.Client(serve(bot), verbose=False)


def test_chat_passes_the_passage_count_to_the_pipeline(stub):
    bot, client = stub
    messages, article, _ = client.predict("ok", 3, False, api_name="/chat")
    assert bot.calls[-1] == ("ok", [], 3)
    assert 'href="#vq-1-1"' in _last_text(messages)
    assert '<mark class="vq" id="vq-1-1" data-vq="1-1" data-n="1">Gamma delta.</mark>' in article
    assert client.predict("ok", api_name="/ask")["answer"] == "Gamma delta. [1]"


def test_a_crash_is_shown_logged_and_the_server_keeps_serving(stub, caplog):
    bot, client = stub
    with caplog.at_level(logging.ERROR, logger="ui.app"):
        messages, _, _ = client.predict("why?", api_name="/chat")
        result = client.predict("why?", api_name="/ask")
    assert _last_text(messages).startswith('<div class="va va-error" role="alert">⚠️ Something')
    assert result == {"error": FAILURE}
    assert "the model fell over" in caplog.text
    assert client.predict("ok", api_name="/ask")["citations"][0]["quote"] == "Gamma delta."
