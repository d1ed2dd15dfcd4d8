"""PipelineLoader on its own, with a stand-in load function (the real start is test_start.py)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from rag.config import Config
from rag.types import Document
from ui.loader import LoadFailed, PipelineLoader

DOCS = {"doc.txt": Document("doc.txt", "Alpha beta.", "x")}


class GatedLoad:
    """A load that reports one step, then waits until the test lets it finish."""

    def __init__(self, result=None, error: BaseException | None = None):
        self.release = threading.Event()
        self.stepped = threading.Event()
        self.result = result if result is not None else SimpleNamespace(name="pipeline")
        self.error = error
        self.calls = 0

    def __call__(self, config, progress):
        self.calls += 1
        progress("loading the embedding model")
        self.stepped.set()
        self.release.wait(10)
        if self.error is not None:
            raise self.error
        return self.result


def test_config_and_documents_are_there_before_the_load_ends():
    load = GatedLoad()
    loader = PipelineLoader(Config(), DOCS, load)
    assert loader.documents == DOCS and loader.config == Config()
    assert loader.loading and not loader.ready
    load.release.set()


def test_status_names_the_step_under_way():
    load = GatedLoad()
    loader = PipelineLoader(Config(), DOCS, load)
    assert load.stepped.wait(5)
    assert "loading the embedding model" in loader.status()
    load.release.set()


def test_status_is_empty_once_ready():
    load = GatedLoad()
    loader = PipelineLoader(Config(), DOCS, load)
    load.release.set()
    assert loader.wait(5) is load.result
    assert loader.ready and not loader.loading and loader.status() == ""
    assert loader.seconds is not None and load.calls == 1


def test_a_failed_load_is_raised_to_waiters_with_its_reason():
    load = GatedLoad(error=RuntimeError("the model package is missing"))
    loader = PipelineLoader(Config(), DOCS, load)
    load.release.set()
    with pytest.raises(LoadFailed, match="the model package is missing"):
        loader.wait(5)
    assert not loader.ready and not loader.loading
    assert "could not start: the model package is missing" in loader.status()


def test_wait_gives_up_after_its_timeout():
    load = GatedLoad()
    loader = PipelineLoader(Config(), DOCS, load)
    with pytest.raises(LoadFailed, match="still loading"):
        loader.wait(0.05)
    load.release.set()


def test_a_question_asked_while_loading_is_answered_once_loaded():
    answers = SimpleNamespace(ask_stream=lambda q, history, k: iter([f"answer to {q} ({k})"]))
    load = GatedLoad(result=answers)
    loader = PipelineLoader(Config(), DOCS, load)
    got: list[str] = []
    asker = threading.Thread(target=lambda: got.extend(loader.ask_stream("why?", [], 3)))
    asker.start()
    asker.join(0.2)
    assert asker.is_alive() and got == []
    load.release.set()
    asker.join(5)
    assert got == ["answer to why? (3)"]
