"""Answer figures: model load (first and cached), warm ask p50/p95, first streamed output, RSS.

Run: ``.venv/bin/python benchmarks/bench_answer.py``. Prints figures; asserts none.
The first-load figure is only a conversion when ``index/models`` has no cached copy yet.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import load_items
from rag.eval.metrics import percentile

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=30, help="dev questions to time")
    args = parser.parse_args()

    from index.embed import load_embedder
    from rag.generate import Generator
    from rag.pipeline import Verbatim

    config = Config.from_env()
    started = time.perf_counter()
    generator = Generator(
        config.generator, config.model_cache_dir, config.torch_threads, config.quantize
    )
    first_load = time.perf_counter() - started
    # One generator at a time, as in the server: the peak RSS should not count two.
    del generator
    gc.collect()
    started = time.perf_counter()
    generator = Generator(
        config.generator, config.model_cache_dir, config.torch_threads, config.quantize
    )
    cached_load = time.perf_counter() - started
    bot = Verbatim(config, embedder=load_embedder(), generator=generator)

    items = load_items(DEV)
    items = items[: args.limit]
    totals, firsts, answered = [], [], []
    # As the chat does behind the page once the model is loaded (ui/loader.py).
    started = time.perf_counter()
    bot.warm_likelihood()
    warm_s = time.perf_counter() - started
    bot.ask(items[0].question)  # warm
    for item in items:
        t = time.perf_counter()
        first = None
        final = None
        for part in bot.ask_stream(item.question, list(item.history)):
            if first is None:
                first = time.perf_counter() - t
            final = part
        totals.append(time.perf_counter() - t)
        firsts.append(first or 0.0)
        if final is not None and not final.abstained:
            answered.append(totals[-1])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50, p95 = percentile(totals, 50), percentile(totals, 95)
    print(f"generator load, first run     {first_load:7.2f} s (conversion only without cache)")
    print(f"generator load, cached        {cached_load:7.2f} s (target < 3 s)")
    print(f"likelihood prompts computed   {warm_s:7.2f} s (behind the page, once a load)")
    print(f"warm ask p50                  {p50:7.2f} s (#6 target < 1.0 s: {p50:.2f}x)")
    print(
        f"warm ask p95                  {p95:7.2f} s over {len(totals)} questions "
        f"(#6 target < 2.0 s: {p95 / 2:.2f}x)"
    )
    if answered:
        print(f"warm ask p50, answered only   {percentile(answered, 50):7.2f} s")
    print(f"first streamed output p50     {percentile(firsts, 50):7.3f} s (#6 target < 0.3 s)")
    print(f"peak RSS                      {peak_mb:7.0f} MB (#6 target < 1200 MB)")


if __name__ == "__main__":
    main()
