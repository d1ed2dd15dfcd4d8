"""Verbatim: answers about a document, backed by quotes cut verbatim from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rag.config import Config


def load(
    config: Config | None = None, progress: Callable[[str], None] | None = None, **overrides: Any
):
    """Load (building the index if needed) the shared question-answering pipeline.

    Args:
        config: Settings; by default ``Config.from_env()``.
        progress: Told each loading step as it starts (see :class:`rag.pipeline.Verbatim`).
        **overrides: Config fields to change, e.g. ``generator="none"``.
    """
    from rag.pipeline import Verbatim

    return Verbatim((config or Config.from_env()).replace(**overrides), progress=progress)


__all__ = ["Config", "load"]
