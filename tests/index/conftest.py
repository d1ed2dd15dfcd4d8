"""A two-line corpus and its index, shared by the build, hardening and fault tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build import ensure_index
from rag.config import Config

TOWN = (
    "The harbour opened in 1921. Ships from Norway arrived every week.\n"
    "The mayor, Ada Lind, said the port would grow. Nobody believed her.\n"
)


@pytest.fixture
def town() -> str:
    """The two-line corpus's text."""
    return TOWN


@pytest.fixture
def unbuilt(tmp_path: Path) -> Config:
    """Settings for the two-line corpus in ``tmp_path``, with no index built yet."""
    corpus = tmp_path / "town.txt"
    corpus.write_text(TOWN, encoding="utf-8")
    return Config(corpus=(str(corpus),), index_dir=str(tmp_path / "built"), chunk_sentences=2)


@pytest.fixture
def small(unbuilt: Config, embedder) -> Config:
    """A good, live index of the two-line corpus in ``tmp_path/built``."""
    ensure_index(unbuilt, lambda: embedder)
    return unbuilt
