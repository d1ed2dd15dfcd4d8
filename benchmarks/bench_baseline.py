"""Verbatim side by side with a plain RAG baseline built from the same MiniLM and SmolLM2, all
scored by one function on the held-out readers set (unanswerable items included).

The baseline is the common "retrieve the top 3 chunks, let the model write the answer" recipe
(as in a LlamaIndex quick start), written here and nowhere in the product. Every system gets
the same token budget and is scored the same way: ``[n]`` markers stripped by
``answer_scores``, and "quotes verbatim" measured, not assumed, by one function (every
sentence of the answer, less its markers, stands word for word in the article). Verbatim runs
three ways: quotes as answers (the default), and the model writing the answer with and without
its early stop. All run in one process, so the latency ratios hold on a noisy machine.

Run: ``.venv/bin/python benchmarks/bench_baseline.py [--set readers] [--limit N]``.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import load_items
from rag.eval.metrics import answer_scores, percentile, strip_markers

_ABSTAINS = re.compile(
    r"not (?:mentioned|provided|stated)|doesn'?t say|does not say|no information|not in article"
)
BUDGET = 32  # new tokens, the same for every system that writes


def baseline_answer(bot: Any, question: str) -> str:
    """Top-3 chunks by FAISS alone, pasted into the prompt; whatever the model writes."""
    vector = bot.retriever.embed_query(question)
    _, ids = bot.index.vectors.search(vector[None, :], 3)
    context = "\n\n".join(bot.index.chunks[i].text for i in ids[0] if i >= 0)
    messages = [
        {"role": "system", "content": "Answer the question using the context."},
        {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"},
    ]
    return bot.generator.generate(messages, BUDGET, 60.0).strip()


def quoted_verbatim(text: str, article: str) -> bool:
    """Whether every sentence of ``text`` (markers and "…" joins removed) stands word for word
    in the article."""
    parts = re.split(r"\s*…\s*|(?<=[.!?”])\s+", strip_markers(text))
    parts = [p.strip() for p in parts if p.strip()]
    return bool(parts) and all(p in article for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", default="readers", help="a file name under data/qa/")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    import rag
    from rag import generate

    config = Config.from_env(max_new_tokens=BUDGET)
    quotes = rag.load(config)
    writer = rag.load(config, writer="model")
    article = next(iter(quotes.documents.values())).text
    items = load_items(PROJECT_ROOT / "data" / "qa" / f"{args.set}.jsonl")[: args.limit]

    def verbatim(bot: Any, item: Any) -> tuple[str, bool]:
        answer = bot.ask(item.question, list(item.history))
        return answer.answer, answer.abstained

    def no_early_stop(item: Any) -> tuple[str, bool]:
        # The same writer, made to write every reply out: give_up never fires.
        stream = generate.Generator.stream

        def patient(self, messages, max_new_tokens, timeout_s, give_up=None, outcome=None):
            return stream(self, messages, max_new_tokens, timeout_s, None, outcome)

        generate.Generator.stream = patient
        try:
            return verbatim(writer, item)
        finally:
            generate.Generator.stream = stream

    def baseline(item: Any) -> tuple[str, bool]:
        history = [m["content"] for m in item.history if m["role"] == "user"]
        text = baseline_answer(quotes, " ".join([*history, item.question]))
        return text, bool(_ABSTAINS.search(text.lower()))

    systems = {
        "verbatim (quotes)": lambda item: verbatim(quotes, item),
        "verbatim (model writes)": lambda item: verbatim(writer, item),
        "  without early stop": no_early_stop,
        "baseline top-3 + model": baseline,
    }
    rows: dict[str, list[tuple[dict, float, bool, bool]]] = {name: [] for name in systems}
    for item in items:
        for name, system in systems.items():
            started = time.perf_counter()
            text, abstained = system(item)
            seconds = time.perf_counter() - started
            scores = answer_scores(text, abstained, item.answerable, item.answers)
            shown_verbatim = abstained or quoted_verbatim(text, article)
            rows[name].append((scores, seconds, shown_verbatim, item.answerable))

    print(f"{len(items)} questions of {args.set}.jsonl, {BUDGET} new tokens for every writer")
    header = f"{'':26}{'hit (ans.)':>11}{'abst. (unans.)':>15}{'F1':>7}{'verbatim':>9}"
    print(header + f"{'p50 s':>7}{'p95 s':>7}")
    p50s = {}
    for name, data in rows.items():
        answerable = [s for s, _, _, ok in data if ok and s["lenient_hit"] is not None]
        unanswerable = [s for s, _, _, ok in data if not ok]
        hit = sum(s["lenient_hit"] for s in answerable) / max(len(answerable), 1)
        f1 = sum(s["f1"] for s in answerable) / max(len(answerable), 1)
        abstain = sum(s["lenient_hit"] for s in unanswerable) / max(len(unanswerable), 1)
        shown = sum(v for _, _, v, _ in data) / len(data)
        times = [t for _, t, _, _ in data]
        p50s[name] = percentile(times, 50)
        print(
            f"{name:26}{hit:11.3f}{abstain:15.3f}{f1:7.3f}{shown:9.2f}"
            f"{p50s[name]:7.2f}{percentile(times, 95):7.2f}"
        )
    base = p50s["verbatim (quotes)"]
    for name in systems:
        if name != "verbatim (quotes)":
            print(f"p50 ratio {name.strip()} / verbatim (quotes): {p50s[name] / base:.2f}x")


if __name__ == "__main__":
    main()
