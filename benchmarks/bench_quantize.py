"""float32 against dynamic int8 for the generator, on the dev set, in one process.

Run: ``.venv/bin/python benchmarks/bench_quantize.py``. Prints figures; asserts none.
Both variants answer every dev question through the whole pipeline; the table gives latency,
how many answers the model wrote (and passed the check), answerable hits, and how many final
answers are identical to float32's. The pipeline's check hides a damaged model (it falls back
to the quote), so the model's raw replies to the same prompts are compared too: how many
are identical to float32's and how many contain a gold answer.
"""

from __future__ import annotations

import argparse
import time

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import load_items
from rag.eval.metrics import lenient_hit, percentile

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="dev questions (0 = all)")
    args = parser.parse_args()

    from index.embed import load_embedder
    from rag import compose
    from rag.generate import Generator
    from rag.pipeline import Verbatim

    config = Config.from_env()
    items = load_items(DEV)
    items = items[: args.limit] if args.limit else items
    embedder = load_embedder()
    answers: dict[str, list[str]] = {}
    replies: dict[str, list[str]] = {}
    rows = []
    for quantize in ("none", "int8"):
        started = time.perf_counter()
        generator = Generator(
            config.generator, config.model_cache_dir, config.torch_threads, quantize
        )
        load_s = time.perf_counter() - started
        bot = Verbatim(config, embedder=embedder, generator=generator)
        latencies, written, hits, raw_hits = [], 0, 0.0, 0.0
        answers[quantize], replies[quantize] = [], []
        for item in items:
            result = bot.search(item.question, list(item.history))
            if not result.verdict.abstain:
                citations, lead = bot._citations(result)
                prompt = compose.build_messages(result.query, citations[:lead])
                reply = generator.generate(prompt, config.max_new_tokens, 60.0)
                replies[quantize].append(reply)
                raw_hits += item.answerable and lenient_hit(reply, item.answers)
            answer = bot.ask(item.question, list(item.history))
            answers[quantize].append(answer.answer)
            latencies.append(answer.timings["total_s"])
            written += answer.mode == "generated"
            if item.answerable and not answer.abstained:
                hits += lenient_hit(answer.answer, item.answers)
        rows.append((quantize, load_s, latencies, written, hits, raw_hits))
        del bot, generator

    answerable = sum(item.answerable for item in items)
    print(
        f"{'weights':<8} {'load s':>7} {'p50 s':>6} {'p95 s':>6} {'model answers':>14} "
        f"{'answerable hit':>15} {'same as fp32':>13} {'raw same':>9} {'raw hit':>8}"
    )
    for quantize, load_s, latencies, written, hits, raw_hits in rows:
        same = sum(a == b for a, b in zip(answers[quantize], answers["none"], strict=True))
        raw_same = sum(a == b for a, b in zip(replies[quantize], replies["none"], strict=True))
        name = "float32" if quantize == "none" else quantize
        print(
            f"{name:<8} {load_s:>7.2f} {percentile(latencies, 50):>6.2f} "
            f"{percentile(latencies, 95):>6.2f} {written:>14} {hits:>9.0f}/{answerable:<5} "
            f"{same:>7}/{len(items)} {raw_same:>4}/{len(replies['none'])} {raw_hits:>8.0f}"
        )
    fp32_p50, int8_p50 = percentile(rows[0][2], 50), percentile(rows[1][2], 50)
    print(f"int8 speed-up at p50: {fp32_p50 / int8_p50:.2f}x")


if __name__ == "__main__":
    main()
