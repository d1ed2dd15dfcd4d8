"""Serve the chat page at once and load the pipeline behind it.

Importing torch and sentence-transformers and reading the models takes longer than importing
Gradio and serving the page. So the page comes first: a reader sees the article and can type
while the models load, and a question asked meanwhile is answered as soon as they are ready.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from rag.config import Config
from rag.types import Answer, Document

logger = logging.getLogger(__name__)


class LoadFailed(RuntimeError):
    """The pipeline could not be loaded; the message says why."""


class PipelineLoader:
    """Stands in for a :class:`rag.pipeline.Verbatim` while one loads in a background thread.

    ``config`` and ``documents`` are there at once (the page needs them); ``ask_stream`` waits
    for the pipeline and then hands the question to it.
    """

    def __init__(
        self,
        config: Config,
        documents: Mapping[str, Document],
        load: Callable[..., Any],
    ):
        """Start loading.

        Args:
            config: Settings of the pipeline.
            documents: The corpus by source name, read up front for the article panel.
            load: Called as ``load(config, progress=callback)`` in the background, e.g.
                :func:`rag.load`.
        """
        self.config = config
        self.documents = dict(documents)
        self.started = time.perf_counter()
        self.seconds: float | None = None
        self._step = "starting"
        self._bot: Any = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._load = load
        threading.Thread(target=self._run, name="verbatim-load", daemon=True).start()

    def _run(self) -> None:
        try:
            self._bot = self._load(self.config, progress=self._progress)
        except BaseException as exc:  # reported to every waiter and to main()
            self._error = exc
            logger.error("loading the pipeline failed: %s", exc)
        finally:
            self.seconds = time.perf_counter() - self.started
            self._done.set()
        if self._error is None:
            logger.info("models and index ready in %.1f s", self.seconds)

    def _progress(self, step: str) -> None:
        self._step = step
        logger.info("%s…", step)

    @property
    def loading(self) -> bool:
        """Whether loading is still under way."""
        return not self._done.is_set()

    @property
    def ready(self) -> bool:
        """Whether the pipeline has loaded (False while loading and after a failure)."""
        return self._done.is_set() and self._error is None

    def status(self) -> str:
        """One line for the reader: what is loading, why it failed, or "" once ready."""
        if self._done.is_set():
            return "" if self._error is None else f"The chat could not start: {self._error}"
        waited = time.perf_counter() - self.started
        return f"Getting ready: {self._step} ({waited:.0f} s)."

    def wait(self, timeout: float | None = None) -> Any:
        """The loaded pipeline, once it is there.

        Raises:
            LoadFailed: loading failed (the message says why) or ``timeout`` passed first.
        """
        if not self._done.wait(timeout):
            raise LoadFailed(f"the models are still loading after {timeout} s")
        if self._error is not None:
            raise LoadFailed(str(self._error)) from self._error
        return self._bot

    def ask_stream(
        self,
        question: str,
        history: Sequence[dict[str, Any]] | None = None,
        k: int | None = None,
    ) -> Iterator[Answer]:
        """:meth:`rag.pipeline.Verbatim.ask_stream`, once the pipeline has loaded."""
        yield from self.wait().ask_stream(question, history, k)
