"""Session-wide real models: MiniLM, SmolLM2 and a FAISS index built in a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Config

ARTICLE = PROJECT_ROOT / "data" / "article.txt"
TEST_DATA = Path(__file__).parent / "data"


def read_jsonl(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture(scope="session")
def article_text() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def embedder():
    from index.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def session_index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="session")
def config(session_index_dir) -> Config:
    return Config.from_env(index_dir=str(session_index_dir), corpus=(str(ARTICLE),))


@pytest.fixture(scope="session")
def generator(config):
    from rag.generate import Generator

    return Generator("smollm2", config.model_cache_dir, config.torch_threads, config.quantize)


@pytest.fixture(scope="session")
def extractive_bot(config, embedder):
    from rag.pipeline import Verbatim

    return Verbatim(config.replace(generator="none"), embedder=embedder)


@pytest.fixture(scope="session")
def bot(config, embedder, generator):
    from rag.pipeline import Verbatim

    return Verbatim(config, embedder=embedder, generator=generator)
