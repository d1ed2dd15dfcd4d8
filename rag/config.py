"""The one config object: defaults, environment overrides (``VERBATIM_<FIELD>``) and CLI flags."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Nothing in Verbatim may reach a model hub or phone home; set this before any HF/Gradio import.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)


def _default_corpus() -> tuple[str, ...]:
    return (str(PROJECT_ROOT / "data" / "article.txt"),)


@dataclass(frozen=True)
class Config:
    """All tunable settings. Every field can be overridden by ``VERBATIM_<FIELD_NAME>``.

    Every numeric field is checked when the config is built (finite, in range), so a bad
    value stops the program at start instead of failing each question.

    Attributes:
        corpus: Files or folders to index (``.txt``/``.md``); env value is ``:``-separated.
        index_dir: Where the built index lives.
        model_cache_dir: Where converted generator weights are cached.
        chunk_sentences: Sentences per passage window.
        chunk_overlap: Sentences shared by consecutive windows.
        top_k: Passages retrieved per question.
        evidence_k: Evidence sentences kept (and cited at most) per answer.
        rrf_k: Reciprocal-rank-fusion constant.
        index_type: FAISS index: ``auto`` (flat up to 50k passages, then HNSW), ``flat``,
            ``hnsw`` or ``ivf``.
        generator: ``smollm2`` (default package), ``none`` (extractive only), a path to a
            transformers model folder or a ``.gguf`` file, or an OpenAI-compatible server as
            ``openai:<base URL>#<model>`` (docs/openai-api.md), which then writes every answer.
        generator_api_key: Bearer token for an ``openai:`` generator's server, if it needs one.
        quantize: ``none`` (default) keeps the generator in float32; ``int8`` runs its linear
            layers, except the output head, as dynamic int8. That is about 2x faster here but
            wrecks SmolLM2-135M's replies (docs/performance.md); it is meant for larger models,
            measured first with ``benchmarks/bench_quantize.py``.
        writer: ``quote`` (default): the answer is the chosen quote, and the generator only
            scores which sentence answers (query likelihood). ``model``: the generator also
            writes a one-sentence answer, shown only if every word of it stands in the quote
            it cites; meant for larger models (SmolLM2-135M passes that check for few answers
            and doubles the answer time).
        max_new_tokens: Generation budget for the short answer.
        generation_timeout_s: After this, generation stops and the extractive answer is used.
        max_question_chars: Longest question accepted.
        abstain_min_similarity: Below this best-sentence MiniLM cosine the bot abstains;
            chosen on data/qa/dev.jsonl only (see docs/abstention.md).
        host: Interface the web chat binds to.
        port: Port of the web chat.
        torch_threads: Threads torch may use.
    """

    corpus: tuple[str, ...] = field(default_factory=_default_corpus)
    index_dir: str = str(PROJECT_ROOT / "index" / "built")
    model_cache_dir: str = str(PROJECT_ROOT / "index" / "models")
    chunk_sentences: int = 3
    chunk_overlap: int = 1
    top_k: int = 5
    evidence_k: int = 3
    rrf_k: int = 60
    index_type: str = "auto"
    generator: str = "smollm2"
    generator_api_key: str = ""
    quantize: str = "none"
    writer: str = "quote"
    max_new_tokens: int = 32
    generation_timeout_s: float = 8.0
    max_question_chars: int = 2000
    abstain_min_similarity: float = 0.25
    host: str = "127.0.0.1"
    port: int = 7860
    torch_threads: int = 2

    def __post_init__(self) -> None:
        for name, low, high in _RANGES:
            _check_number(name, getattr(self, name), low, high)
        if not 0 <= self.chunk_overlap < self.chunk_sentences:
            raise ConfigError(
                "chunk_overlap", "chunk_overlap must be >= 0 and smaller than chunk_sentences"
            )
        if self.quantize not in ("int8", "none"):
            raise ConfigError(
                "quantize", f"quantize must be 'int8' or 'none', not {self.quantize!r}"
            )
        if self.writer not in ("quote", "model"):
            raise ConfigError("writer", f"writer must be 'quote' or 'model', not {self.writer!r}")

    def replace(self, **changes: Any) -> Config:
        """Return a copy with ``changes`` applied; ``None`` values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
        """Build a config from defaults, then ``VERBATIM_*`` variables, then ``overrides``.

        Raises:
            ValueError: a value is malformed or out of range; the message names the
                ``VERBATIM_<FIELD>`` variable when the value came from the environment.
        """
        env = os.environ if environ is None else environ
        from_env: dict[str, str] = {}
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"VERBATIM_{f.name.upper()}")
            if raw is None:
                continue
            from_env[f.name] = raw
            values[f.name] = _parse(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ConfigError as exc:
            if exc.field in from_env and overrides.get(exc.field) is None:
                variable = f"VERBATIM_{exc.field.upper()}"
                raise ValueError(f"{variable}={from_env[exc.field]!r}: {exc}") from exc
            raise


class ConfigError(ValueError):
    """A config value out of range; ``field`` names the setting."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


# Numeric settings and their inclusive bounds (None: unbounded above).
_RANGES: tuple[tuple[str, float, float | None], ...] = (
    ("chunk_sentences", 1, None),
    ("chunk_overlap", 0, None),
    ("top_k", 1, None),
    ("evidence_k", 1, None),
    ("rrf_k", 1, None),
    ("max_new_tokens", 1, None),
    ("generation_timeout_s", 0, None),
    ("max_question_chars", 1, None),
    ("abstain_min_similarity", -1, 1),
    ("port", 1, 65535),
    ("torch_threads", 1, None),
)


def _check_number(name: str, value: Any, low: float, high: float | None) -> None:
    """Raise ConfigError unless ``value`` is a finite number within ``[low, high]``; a
    duration (``*_s``) must also be above 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, f"{name} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise ConfigError(name, f"{name} must be a finite number, not {value!r}")
    if name.endswith("_s") and value <= low:
        raise ConfigError(name, f"{name} must be above {low:g} seconds, not {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(name, f"{name} must be {bounds}, not {value!r}")


def _parse(name: str, type_name: Any, raw: str) -> Any:
    text = str(type_name)
    try:
        if "tuple" in text:
            return tuple(p for p in raw.split(os.pathsep) if p)
        if text == "int":
            return int(raw)
        if text == "float":
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"VERBATIM_{name.upper()}={raw!r} is not a valid {text}") from exc
    return raw
