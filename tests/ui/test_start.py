"""Starting the chat: the page comes first, the models load behind it, failures say why."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

import ui.app as ui_app
from rag.config import PROJECT_ROOT

gradio_client = pytest.importorskip("gradio_client")

QUESTION = "How many overdose deaths were there in the U.S. last year?"


def test_the_page_is_served_while_the_models_load(gated_chat):
    page = httpx.get(gated_chat.url, timeout=10)
    assert page.status_code == 200
    assert gated_chat.runner.is_alive()  # main() is still waiting for the load
    config = httpx.get(gated_chat.url + "config", timeout=10).text
    assert "Getting ready: loading the embedding model" in config


def test_a_question_sent_while_loading_is_answered_once_loaded(gated_chat, article_text):
    client = gradio_client.Client(gated_chat.url, verbose=False)
    job = client.submit(QUESTION, api_name="/ask")
    time.sleep(1.0)
    assert not job.done()
    gated_chat.release.set()
    result = job.result(timeout=120)
    assert not result["abstained"] and result["citations"]
    for c in result["citations"]:
        assert article_text[c["start"] : c["end"]] == c["quote"]
    gated_chat.runner.join(30)
    assert not gated_chat.runner.is_alive()  # main() went on to serve


def test_without_its_language_model_the_chat_answers_with_quotes_and_says_why(
    monkeypatch, config, tmp_path, port, capsys, article_text
):
    apps: list = []
    real_launch = ui_app.launch
    monkeypatch.setattr(
        ui_app, "launch", lambda app, *a, **kw: apps.append(app) or real_launch(app, *a, **kw)
    )
    monkeypatch.setattr(ui_app.gr.Blocks, "block_thread", lambda self: None)
    monkeypatch.setenv("VERBATIM_INDEX_DIR", config.index_dir)
    monkeypatch.setenv("VERBATIM_GENERATOR", str(tmp_path / "no-such-model"))
    ui_app.main(["--port", str(port)])
    try:
        out = capsys.readouterr().out
        assert "could not load; answers are quotes alone" in out and "no-such-model" in out
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        result = client.predict(QUESTION, api_name="/ask")
        assert result["model"] == "extractive" and result["citations"]
        for c in result["citations"]:
            assert article_text[c["start"] : c["end"]] == c["quote"]
    finally:
        for app in apps:
            app.close()


def test_a_load_that_fails_stops_the_chat_with_the_reason(monkeypatch, tmp_path, port):
    served: list[str] = []
    real_launch = ui_app.launch
    monkeypatch.setattr(
        ui_app, "launch", lambda *a, **kw: served.append(real_launch(*a, **kw)) or served[-1]
    )
    not_a_folder = tmp_path / "index-file"
    not_a_folder.write_text("not an index", encoding="utf-8")
    monkeypatch.setenv("VERBATIM_INDEX_DIR", str(not_a_folder))
    with pytest.raises(SystemExit) as info:
        ui_app.main(["--port", str(port)])
    assert "could not start" in str(info.value) and "index-file" in str(info.value)
    with pytest.raises(httpx.ConnectError):
        httpx.get(served[0], timeout=5)  # the server was closed, not left half-working


def test_an_unreadable_corpus_stops_the_chat_before_serving(monkeypatch, tmp_path, port):
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    monkeypatch.setenv("VERBATIM_CORPUS", str(empty))
    monkeypatch.setattr(ui_app, "launch", lambda *a, **kw: pytest.fail("served a broken corpus"))
    with pytest.raises(SystemExit, match="file is empty"):
        ui_app.main(["--port", str(port)])


def test_python_m_ui_app_serves_then_answers(config, article_text, port, tmp_path, wait_for_page):
    """The entry point `make chat` runs, as a separate process with the real models."""
    env = dict(os.environ, VERBATIM_INDEX_DIR=config.index_dir)
    log = tmp_path / "chat.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui.app", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        wait_for_page(url, 120, alive=lambda: process.poll() is None)
        client = gradio_client.Client(url, verbose=False)
        # Answered as soon as retrieval is ready, by the quotes if the model is still loading.
        first = client.predict(QUESTION, api_name="/ask")
        while time.monotonic() < deadline and "Ready: the models" not in log.read_text():
            time.sleep(0.5)
        then = client.predict(QUESTION, api_name="/ask")
    finally:
        process.terminate()
        process.wait(timeout=30)
    output = log.read_text()
    assert "Verbatim chat running at" in output and "Ready: the models" in output
    assert then["model"].startswith("SmolLM2")
    for result in (first, then):
        assert any("105,000" in c["quote"] for c in result["citations"])
        for c in result["citations"]:
            assert article_text[c["start"] : c["end"]] == c["quote"]
