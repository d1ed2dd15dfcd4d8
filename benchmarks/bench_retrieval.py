"""Retrieval figures: cold index build, warm query latency (embed, FAISS, BM25, evidence), RSS.

Run: ``.venv/bin/python benchmarks/bench_retrieval.py [--rounds N]``. Prints figures; asserts none.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time

from rag.config import PROJECT_ROOT, Config
from rag.eval.metrics import percentile

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "retrieval.jsonl"


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
        times: list[float] = []
        for _ in range(args.rounds):
            for q in questions:
                t = time.perf_counter()
                bot.search(q)
                times.append(time.perf_counter() - t)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50 = percentile(times, 50) * 1000
    print(f"sentence hit@1           {top1 / len(items):8.3f}  ({top1}/{len(items)} questions)")
    print(f"sentence hit@3           {top3 / len(items):8.3f}  ({top3}/{len(items)})")
    print(f"embedder load            {load_s:8.2f} s")
    print(f"cold index build         {build_s:8.2f} s  ({bot.index.manifest['counts']})")
    print(f"warm search p50          {p50:8.1f} ms  (target < 30 ms: {p50 / 30:.2f}x of target)")
    print(f"warm search p95          {percentile(times, 95) * 1000:8.1f} ms")
    print(f"warm search mean         {statistics.fmean(times) * 1000:8.1f} ms over {len(times)}")
    print(f"peak RSS                 {peak_mb:8.0f} MB")


if __name__ == "__main__":
    main()
