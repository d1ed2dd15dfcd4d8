"""Index types at scale: flat vs HNSW vs IVF on synthetic passages, built with the product's code.

Passage vectors are random mixtures of the article's real MiniLM sentence vectors plus noise
(clustered like real text, at any size); queries are real question embeddings. Prints build
time, query p50, index size and recall@10 of each approximate index against flat.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--sizes 1000 10000 100000 1000000]``.

With ``--corpus-mb 1 10`` it instead times ``rag index`` on generated corpora of that many
megabytes (the article's sentences shuffled, their numbers varied so most are not exact
repeats), stage by stage with the product's functions: read, split, duplicate marking,
chunking, embedding, writing, then loading and checking the result as every start-up does.
Prints seconds and seconds per MB of each stage.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from pathlib import Path

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


def generated_corpus(n_bytes: int, seed: int = 0) -> str:
    """About ``n_bytes`` of article sentences in shuffled paragraphs of 3-6, numbers varied.

    Sentences with numbers get new ones; half of those without gain a leading year. The rest
    repeat exactly, as boilerplate does in long scraped files.
    """
    from index.corpus import read_corpus
    from index.split import split_document

    rng = random.Random(seed)
    (article,) = read_corpus([PROJECT_ROOT / "data" / "article.txt"])
    pool = [s.text.replace("\n", " ") for s in split_document(article)]
    paragraphs: list[str] = []
    size = 0
    while size < n_bytes:
        picked = []
        for text in rng.sample(pool, rng.randint(3, 6)):
            if re.search(r"\d", text):
                text = re.sub(r"\d+", lambda m: str(rng.randint(1, 10 ** len(m.group()))), text)
            elif rng.random() < 0.5:
                text = f"In {rng.randint(1000, 2999)}, {text[:1].lower()}{text[1:]}"
            picked.append(text)
        paragraphs.append(" ".join(picked))
        size += len(paragraphs[-1].encode()) + 2
    return "\n\n".join(paragraphs) + "\n"


def _random_units(n: int) -> np.ndarray:
    from index.embed import DIMENSION

    vectors = np.random.default_rng(0).normal(size=(n, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def time_corpus(
    megabytes: float, embedder, pooled: str | None = None
) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds per stage of indexing ``megabytes`` of text, as ``rag index`` does.

    CPU seconds are this process's (all its threads); on a shared machine they show the cost
    without the waiting.
    """
    from index.build import index_key, index_vectors, load_matching, passage_vectors_mode
    from index.chunk import chunk_sentences
    from index.corpus import read_corpus
    from index.split import mark_duplicates, split_document
    from index.store import write_index
    from rag.config import Config

    seconds: dict[str, tuple[float, float]] = {}  # stage -> (wall, CPU of this process)

    def timed(stage: str, run):
        wall, cpu = time.perf_counter(), time.process_time()
        out = run()
        before = seconds.get(stage, (0.0, 0.0))
        took = (time.perf_counter() - wall, time.process_time() - cpu)
        seconds[stage] = (before[0] + took[0], before[1] + took[1])
        return out

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        path.write_text(generated_corpus(int(megabytes * 1_000_000)), encoding="utf-8")
        config = Config(corpus=(str(path),), index_dir=str(Path(tmp) / "built"))
        documents = timed("read", lambda: read_corpus(config.corpus))
        (doc,) = documents
        split = timed("split", lambda: split_document(doc))
        sentences = timed("duplicates", lambda: mark_duplicates(split))
        size, overlap = config.chunk_sentences, config.chunk_overlap
        chunks = timed("chunk", lambda: chunk_sentences(doc, sentences, size, overlap))
        if embedder is None:  # --no-embed: unit random vectors, to time the other stages at scale
            mode = "random"
            chunk_vectors, sentence_vectors = (
                _random_units(len(chunks)),
                _random_units(len(sentences)),
            )
        else:
            mode = passage_vectors_mode(documents) if pooled is None else pooled
            chunk_vectors, sentence_vectors = timed(
                "embed", lambda: index_vectors(embedder, sentences, chunks, mode)
            )
        manifest = {"key": index_key(config, documents)}
        timed(
            "write",
            lambda: write_index(
                Path(config.index_dir),
                documents,
                sentences,
                chunks,
                chunk_vectors,
                sentence_vectors,
                manifest,
                config.index_type,
            ),
        )
        index, why = timed("load+check", lambda: load_matching(config, read_corpus(config.corpus)))
        assert index is not None, why
        repeats = sum(s.duplicate_of >= 0 for s in sentences)
        print(f"{megabytes:g} MB: {len(sentences)} sentences ({repeats} marked repeats), ", end="")
        vectors = "random stand-in" if embedder is None else f"MiniLM, passages: {mode}"
        print(f"{len(chunks)} passages; vectors: {vectors}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--corpus-mb", type=float, nargs="+", help="time indexing corpora")
    parser.add_argument(
        "--no-embed", action="store_true", help="with --corpus-mb: random vectors, not MiniLM"
    )
    parser.add_argument(
        "--passages",
        choices=("embed", "mean"),
        help="with --corpus-mb: passage vectors embedded or pooled (default: as rag index does)",
    )
    args = parser.parse_args()

    if args.corpus_mb:
        from index.embed import load_embedder

        embedder = None if args.no_embed else load_embedder()
        for megabytes in args.corpus_mb:
            seconds = time_corpus(megabytes, embedder, args.passages)
            total = tuple(sum(t[k] for t in seconds.values()) for k in (0, 1))
            print("{:>11} {:>9} {:>9} {:>9} {:>9}".format("stage", "s", "s/MB", "cpu s", "cpu/MB"))
            for stage, (wall, cpu) in [*seconds.items(), ("total", total)]:
                print(
                    f"{stage:>11} {wall:>9.2f} {wall / megabytes:>9.2f} "
                    f"{cpu:>9.2f} {cpu / megabytes:>9.2f}"
                )
        return

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
