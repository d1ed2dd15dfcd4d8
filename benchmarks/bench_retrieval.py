"""Retrieval figures: cold index build, warm query latency (embed, FAISS, BM25, evidence), RSS.

Warm latency is given for new questions (MiniLM embeds each) and for questions asked again
(their vectors come from the retriever's cache).

Run: ``.venv/bin/python benchmarks/bench_retrieval.py [--rounds N]``. Prints figures; asserts none.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from collections.abc import Callable

from rag import retrieve
from rag.config import PROJECT_ROOT, Config
from rag.eval.metrics import percentile

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "retrieval.jsonl"


def timed(search: Callable[[str], object], questions: list[str], rounds: int) -> list[float]:
    """Seconds of each ``search(question)`` call, ``rounds`` times over the questions."""
    times: list[float] = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            search(q)
            times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the question set")
    args = parser.parse_args()

    from index.build import build_index
    from index.corpus import read_corpus
    from index.embed import load_embedder
    from rag.pipeline import Verbatim

    started = time.perf_counter()
    embedder = load_embedder()
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        config = Config.from_env(index_dir=tmp, generator="none")
        documents = read_corpus(config.corpus)
        started = time.perf_counter()
        build_index(config, embedder, documents)
        build_s = time.perf_counter() - started
        bot = Verbatim(config, embedder=embedder)
        items = [json.loads(x) for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x]
        questions = [item["question"] for item in items]
        # Sentence hit rates: is the answering sentence the top evidence, or in the top 3?
        top1 = top3 = 0
        for item in items:
            found = [e.sentence.text for e in bot.search(item["question"]).evidence]
            top1 += found[:1] == [item["sentence"]]
            top3 += item["sentence"] in found[:3]
        # New questions: the query-vector cache is off, so MiniLM embeds every one.
        retrieve.QUERY_CACHE_SIZE = 0
        times = timed(bot.search, questions, args.rounds)
        embed_times = timed(bot.retriever.embed_query, questions, args.rounds)
        # Questions asked again (Retry, the example questions): their vectors are cached.
        retrieve.QUERY_CACHE_SIZE = 1024
        timed(bot.search, questions, 1)
        cached_times = timed(bot.search, questions, args.rounds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50 = percentile(times, 50) * 1000
    print(f"sentence hit@1           {top1 / len(items):8.3f}  ({top1}/{len(items)} questions)")
    print(f"sentence hit@3           {top3 / len(items):8.3f}  ({top3}/{len(items)})")
    print(f"embedder load            {load_s:8.2f} s")
    print(f"cold index build         {build_s:8.2f} s  ({bot.index.manifest['counts']})")
    print(f"warm search p50          {p50:8.1f} ms  (target < 15 ms: {p50 / 15:.2f}x of target)")
    print(f"warm search p95          {percentile(times, 95) * 1000:8.1f} ms")
    print(f"warm search mean         {statistics.fmean(times) * 1000:8.1f} ms over {len(times)}")
    embed_p50 = percentile(embed_times, 50) * 1000
    print(f"  of which MiniLM p50    {embed_p50:8.1f} ms  ({embed_p50 / p50:.0%} of a search)")
    cached_p50 = percentile(cached_times, 50) * 1000
    print(
        f"asked again p50          {cached_p50:8.1f} ms  (query vector cached: "
        f"{p50 / cached_p50:.1f}x faster; target 15 ms: {cached_p50 / 15:.2f}x)"
    )
    print(f"peak RSS                 {peak_mb:8.0f} MB")


if __name__ == "__main__":
    main()
