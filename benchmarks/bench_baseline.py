"""Verbatim side by side with a plain RAG baseline built from the same MiniLM and SmolLM2.

The baseline is the common "retrieve the top 3 chunks, let the model write the answer" recipe
(as in a LlamaIndex quick start), written here and nowhere in the product. Both run on the same
questions in one process, so the latency ratio holds on a noisy machine.

Run: ``.venv/bin/python benchmarks/bench_baseline.py [--limit N]``. Prints figures only.
"""

from __future__ import annotations

import argparse
import re
import time

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import load_items
from rag.eval.metrics import answer_scores, percentile

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"
_ABSTAINS = re.compile(
    r"not (?:mentioned|provided|stated)|doesn'?t say|does not say|no information"
)


def baseline_answer(bot, question: str, max_new_tokens: int = 64) -> tuple[str, float]:
    """Top-3 chunks by FAISS alone, pasted into the prompt; whatever the model writes."""
    started = time.perf_counter()
    vector = bot.retriever.embed_query(question)
    _, ids = bot.index.vectors.search(vector[None, :], 3)
    context = "\n\n".join(bot.index.chunks[i].text for i in ids[0] if i >= 0)
    messages = [
        {"role": "system", "content": "Answer the question using the context."},
        {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"},
    ]
    text = bot.generator.generate(messages, max_new_tokens, 60.0)
    return text.strip(), time.perf_counter() - started


def quoted_verbatim(text: str, article: str) -> bool:
    """Whether every sentence the baseline wrote stands word for word in the article."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text) if p.strip()]
    return bool(parts) and all(p in article for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=30)
    args = parser.parse_args()

    import rag

    bot = rag.load(Config.from_env())
    article = next(iter(bot.documents.values())).text
    items = load_items(DEV)
    items = items[: args.limit]
    rows = {"verbatim": [], "baseline": []}
    for item in items:
        history = list(item.history)
        started = time.perf_counter()
        ours = bot.ask(item.question, history)
        ours_s = time.perf_counter() - started
        question = " ".join(
            [m["content"] for m in history if m["role"] == "user"] + [item.question]
        )
        text, base_s = baseline_answer(bot, question)
        golds, answerable = item.answers, item.answerable
        rows["verbatim"].append(
            (answer_scores(ours.answer, ours.abstained, answerable, golds), ours_s, True)
        )
        abstained = bool(_ABSTAINS.search(text.lower()))
        rows["baseline"].append(
            (
                answer_scores(text, abstained, answerable, golds),
                base_s,
                quoted_verbatim(text, article),
            )
        )
    print(f"{len(items)} dev questions, same MiniLM + SmolLM2, one process")
    print(f"{'':10} {'lenient':>8} {'f1':>6} {'verbatim':>9} {'p50 s':>7} {'p95 s':>7}")
    summary = {}
    for name, data in rows.items():
        lenient = sum(s["lenient_hit"] or 0 for s, _, _ in data) / len(data)
        f1 = sum(s["f1"] or 0 for s, _, _ in data) / len(data)
        verbatim = sum(v for _, _, v in data) / len(data)
        times = [t for _, t, _ in data]
        summary[name] = (lenient, percentile(times, 50))
        p50, p95 = percentile(times, 50), percentile(times, 95)
        print(f"{name:10} {lenient:8.3f} {f1:6.3f} {verbatim:9.2f} {p50:7.2f} {p95:7.2f}")
    ratio = summary["baseline"][1] / summary["verbatim"][1]
    print(f"latency p50 ratio baseline/verbatim: {ratio:.2f}x")
    gain = summary["verbatim"][0] - summary["baseline"][0]
    print(f"lenient-hit difference verbatim - baseline: {gain:+.3f}")


if __name__ == "__main__":
    main()
