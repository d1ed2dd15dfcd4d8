"""Index types at scale: flat vs HNSW vs IVF on synthetic passages, built with the product's code.

Passage vectors are random mixtures of the article's real MiniLM sentence vectors plus noise
(clustered like real text, at any size); queries are real question embeddings. Prints build
time, query p50, index size and recall@10 of each approximate index against flat.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--sizes 1000 10000 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import time

import faiss
import numpy as np

from index.store import make_faiss_index
from rag.config import PROJECT_ROOT


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors, each a mix of three real sentence vectors plus noise."""
    picks = rng.integers(0, len(base), size=(n, 3))
    weights = rng.dirichlet(np.ones(3), size=n).astype(np.float32)
    vectors = np.einsum("nk,nkd->nd", weights, base[picks])
    vectors += rng.normal(0, 0.05, size=vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()

    from index.build import split_corpus
    from index.corpus import read_corpus
    from index.embed import embed, load_embedder

    embedder = load_embedder()
    sentences, _ = split_corpus(read_corpus([PROJECT_ROOT / "data" / "article.txt"]), 3, 1)
    base = embed(embedder, [s.text for s in sentences])
    questions = [
        json.loads(line)["question"]
        for line in (PROJECT_ROOT / "tests" / "data" / "retrieval.jsonl").read_text().splitlines()
    ]
    queries = embed(embedder, questions)
    rng = np.random.default_rng(0)
    faiss.omp_set_num_threads(2)
    header = ("passages", "index", "build s", "query p50 ms", "MB", "recall@10")
    print("{:>9} {:>5} {:>8} {:>12} {:>7} {:>9}".format(*header))
    for n in args.sizes:
        vectors = synthetic(base, n, rng)
        truth = None
        for kind in ("flat", "hnsw", "ivf"):
            started = time.perf_counter()
            index = make_faiss_index(vectors, kind)
            build_s = time.perf_counter() - started
            times = []
            found = []
            for q in queries:
                t = time.perf_counter()
                _, ids = index.search(q[None, :], 10)
                times.append(time.perf_counter() - t)
                found.append(set(ids[0].tolist()))
            if kind == "flat":
                truth = found
            recall = np.mean([len(f & t) / 10 for f, t in zip(found, truth, strict=True)])
            size_mb = len(faiss.serialize_index(index)) / 1e6
            p50 = sorted(times)[len(times) // 2] * 1000
            print(f"{n:>9} {kind:>5} {build_s:>8.2f} {p50:>12.3f} {size_mb:>7.1f} {recall:>9.3f}")
        del vectors


if __name__ == "__main__":
    main()
