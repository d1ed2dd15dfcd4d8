"""The reader on the dev set, the seen test set and the held-out readers set, side by side with
the one-line baseline (the article sentence closest to the question by MiniLM cosine, never
abstaining), both scored by the same function.

Run: ``.venv/bin/python benchmarks/bench_reader.py [--generator none] [--sets dev,readers]
[--whole-quotes]``.
Prints figures only. Tune on dev; the other two columns are for reading, not for tuning.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import EvalItem, load_items
from rag.eval.metrics import mean, percentile
from rag.eval.run import make_record
from rag.types import Answer, Citation

SETS = {
    "dev": PROJECT_ROOT / "data" / "qa" / "dev.jsonl",
    "readers": PROJECT_ROOT / "data" / "qa" / "readers.jsonl",
    "test": PROJECT_ROOT / "data" / "qa" / "test.jsonl",
}
ROWS = (
    ("answerable: gold answer inside", "hit"),
    ("answerable wrongly abstained", "false_abstain"),
    ("unanswerable abstained", "abstain_recall"),
    ("citation recall", "citation_recall"),
    ("citation precision", "citation_precision"),
    ("answer F1 (answerable)", "f1"),
    ("answer exact match (answerable)", "em"),
    ("quotes verbatim", "verbatim"),
    ("latency p50 s", "p50"),
)


def baseline_answer(bot: Any, question: str) -> Answer:
    """The single sentence closest to the question by MiniLM cosine; never abstains."""
    started = time.perf_counter()
    vector = bot.retriever.embed_query(question)
    sid = int((bot.index.sentence_vectors @ vector).argmax())
    s = bot.index.sentences[sid]
    cite = Citation(1, s.text, s.source, s.start, s.end, s.paragraph, 0.0)
    seconds = time.perf_counter() - started
    return Answer(question, f"{s.text} [1]", False, (cite,), timings={"total_s": seconds})


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """The figures of :data:`ROWS` over one system's records."""
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    m = [r["metrics"] for r in records]
    shown = sum(x["quotes_checked"] for x in m)
    return {
        "hit": mean(r["metrics"]["lenient_hit"] for r in answerable),
        "false_abstain": mean(float(r["abstained"]) for r in answerable),
        "abstain_recall": mean(float(r["abstained"]) for r in unanswerable),
        "citation_recall": mean(x["citation_recall"] for x in m),
        "citation_precision": mean(x["citation_precision"] for x in m),
        "f1": mean(r["metrics"]["f1"] for r in answerable),
        "em": mean(r["metrics"]["exact_match"] for r in answerable),
        "verbatim": sum(x["quotes_verbatim"] for x in m) / shown if shown else None,
        "p50": percentile([x["latency_s"] for x in m], 50),
    }


def run(bot: Any, items: list[EvalItem], baseline: bool) -> list[dict[str, Any]]:
    sources = {name: doc.text for name, doc in bot.documents.items()}
    records = []
    for item in items:
        if baseline:
            answer = baseline_answer(bot, item.question)
        else:
            answer = bot.ask(item.question, list(item.history))
        records.append(make_record(item, answer, (), sources, answer.timings.get("total_s", 0)))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--generator", default=None, help="e.g. none for quotes alone")
    parser.add_argument("--sets", default="dev,readers,test")
    parser.add_argument("--misses", action="store_true", help="list dev misses (dev only)")
    parser.add_argument(
        "--whole-quotes",
        action="store_true",
        help="answer with the whole quotes, no short answer (the reference of #13's bound)",
    )
    args = parser.parse_args()

    import rag

    if args.whole_quotes:
        import rag.pipeline

        # Every short-answer maker the pipeline calls; a figure computed from two quotes stays.
        rag.pipeline.short_answer = lambda *_, **__: None
        rag.pipeline.reason_answer = lambda *_, **__: None
        rag.pipeline.named_instance = lambda *_, **__: None

    bot = rag.load(Config.from_env(), generator=args.generator)
    names = [n for n in args.sets.split(",") if n]
    table: dict[tuple[str, str], dict[str, float | None]] = {}
    for name in names:
        items = load_items(SETS[name])
        for system in ("verbatim", "baseline"):
            records = run(bot, items, baseline=system == "baseline")
            table[(name, system)] = summarise(records)
            if args.misses and name == "dev" and system == "verbatim":
                for r in records:
                    wrong = r["abstained"] if r["answerable"] else not r["abstained"]
                    if wrong or (r["answerable"] and not r["metrics"]["lenient_hit"]):
                        print(f"  miss {r['id']} {r['type']}: {r['answer'][:110]!r}")
    columns = [(n, s) for n in names for s in ("verbatim", "baseline")]
    print(f"model: {bot.model_name}")
    print(f"{'':34}" + "".join(f"{n + ' ' + s[:4]:>14}" for n, s in columns))
    for label, key in ROWS:
        cells = []
        for col in columns:
            value = table[col][key]
            cells.append(f"{'-' if value is None else f'{value:.3f}':>14}")
        print(f"{label:34}" + "".join(cells))


if __name__ == "__main__":
    main()
