"""Serve the chat page at once and load the pipeline behind it.

Importing torch and sentence-transformers and reading the models takes longer than importing
Gradio and serving the page. So the page comes first: a reader sees the article and can type
while the models load, and a question asked meanwhile is answered as soon as they are ready.
The language model comes last: once retrieval is ready, answers are the verbatim quotes alone
until it is (on a first start its conversion alone takes longer than everything else).
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
        load_generator: Callable[..., Any] | None = None,
    ):
        """Start loading.

        Args:
            config: Settings of the pipeline.
            documents: The corpus by source name, read up front for the article panel.
            load: Called as ``load(config, progress=callback)`` in the background with the
                generator set to ``none``, e.g. :func:`rag.load`.
            load_generator: Called as ``load_generator(config, progress)`` next, when the
                config names a generator; by default :func:`rag.pipeline.load_generator`.
        """
        self.config = config
        self.documents = dict(documents)
        self.started = time.perf_counter()
        self.seconds: float | None = None
        self.generator_error: BaseException | None = None
        self._step = "loading the libraries"
        self._bot: Any = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._load = load
        self._load_generator = load_generator
        threading.Thread(target=self._run, name="verbatim-load", daemon=True).start()

    def _run(self) -> None:
        try:
            # Retrieval first: from then on a question gets its verbatim quotes.
            self._bot = self._load(self.config.replace(generator="none"), progress=self._progress)
        except BaseException as exc:  # reported to every waiter and to main()
            self._error = exc
            logger.error("loading the pipeline failed: %s", exc)
            self._finish()
            self._ready.set()  # wakes the waiters, who see the error
            return
        self._ready.set()
        if self.config.generator != "none" and getattr(self._bot, "generator", None) is None:
            logger.info("retrieval ready in %.1f s", time.perf_counter() - self.started)
            try:
                self._bot.attach_generator(self._generator())
            except Exception as exc:  # the chat goes on with the quotes alone
                self.generator_error = exc
                logger.error("the language model could not load; answers are quotes: %s", exc)
        self._finish()
        # Ready already; this only spares the first questions the sentences' prompts.
        warm = getattr(self._bot, "warm_likelihood", None)
        if warm is not None and self.generator_error is None:
            try:
                warm()
            except Exception as exc:  # answers stay right, only the first ones slower
                logger.warning("warming the likelihood scorer failed: %s", exc)

    def _generator(self) -> Any:
        load = self._load_generator
        if load is None:
            from rag.pipeline import load_generator as load
        return load(self.config, self._progress)

    def _finish(self) -> None:
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
        """Whether questions can be answered (perhaps with quotes alone, until the language
        model is there); False while retrieval loads and after a failure."""
        return self._ready.is_set() and self._error is None

    def status(self) -> str:
        """One line for the reader: what is loading, why it failed, or "" once all is ready."""
        if self._error is not None:
            return f"The chat could not start: {self._error}"
        if self.generator_error is not None:
            return (
                f"The language model could not load ({self.generator_error}); "
                "answers are the quotes alone."
            )
        if self._done.is_set():
            return ""
        if self._ready.is_set():
            return f"Answering with quotes alone until the language model is ready: {self._step}."
        return (
            f"Getting ready: {self._step}… A question sent now is answered as soon as the "
            "models are loaded."
        )

    def wait(self, timeout: float | None = None) -> Any:
        """The pipeline, once it can answer (the language model may still be loading).

        Raises:
            LoadFailed: loading failed (the message says why) or ``timeout`` passed first.
        """
        self._ready.wait(timeout)
        if self._error is not None:
            raise LoadFailed(str(self._error)) from self._error
        if not self._ready.is_set():
            raise LoadFailed(f"the models are still loading after {timeout} s")
        return self._bot

    def wait_all(self) -> Any:
        """The pipeline once loading has ended, with or without its language model.

        Raises:
            LoadFailed: as :meth:`wait`.
        """
        self._done.wait()
        return self.wait()

    def ask_stream(
        self,
        question: str,
        history: Sequence[dict[str, Any]] | None = None,
        k: int | None = None,
    ) -> Iterator[Answer]:
        """:meth:`rag.pipeline.Verbatim.ask_stream`, once the pipeline has loaded."""
        yield from self.wait().ask_stream(question, history, k)
