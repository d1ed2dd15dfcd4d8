"""Where the answer time goes: prompt prefill and per-token decoding of the generator.

Run: ``.venv/bin/python benchmarks/bench_generation.py``. Prints figures; asserts none.
For each dev question the bot answers, the prompt the pipeline builds is timed twice: one
forward pass over the prompt (prefill), then a greedy reply of up to ``max_new_tokens``.
Then each prompt is answered as the pipeline does (stop rules on), in turn with and without
the cached system message, and the replies are compared.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import load_items
from rag.eval.metrics import percentile

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=20, help="dev questions to time")
    args = parser.parse_args()

    import torch

    from rag import compose
    from rag.pipeline import Verbatim

    config = Config.from_env()
    bot = Verbatim(config)
    model, tokenizer = bot.generator.model, bot.generator.tokenizer
    items = load_items(DEV)
    prefill_per_token, decode_per_token, prompt_tokens, new_tokens, totals = [], [], [], [], []
    for item in items[: args.limit]:
        result = bot.search(item.question, list(item.history))
        if result.verdict.abstain:
            continue
        citations, lead = bot._citations(result)
        inputs = bot.generator._inputs(compose.build_messages(result.query, citations[:lead]))
        n_prompt = inputs["input_ids"].shape[1]
        with torch.inference_mode():
            started = time.perf_counter()
            model(**inputs)
            prefill = time.perf_counter() - started
            started = time.perf_counter()
            output = model.generate(
                **inputs,
                max_new_tokens=config.max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
            )
            total = time.perf_counter() - started
        n_new = output.shape[1] - n_prompt
        prompt_tokens.append(n_prompt)
        new_tokens.append(n_new)
        prefill_per_token.append(prefill / n_prompt)
        decode_per_token.append(max(total - prefill, 0.0) / max(n_new, 1))
        totals.append(total)

    def p50(values: list[float]) -> float:
        return statistics.median(values)

    # The same prompts through Generator.stream, with and without the system-message cache,
    # alternating so both see the same noise.
    generator = bot.generator
    with_cache, without_cache, same = [], [], 0
    for item in items:
        result = bot.search(item.question, list(item.history))
        if result.verdict.abstain:
            continue
        citations, lead = bot._citations(result)
        messages = compose.build_messages(result.query, citations[:lead])
        replies = []
        for cached, times in ((True, with_cache), (False, without_cache)):
            if not cached:
                generator._system_cache = lambda messages, input_ids: None
            started = time.perf_counter()
            replies.append(generator.generate(messages, config.max_new_tokens, 30.0))
            times.append(time.perf_counter() - started)
            if not cached:
                del generator._system_cache  # back to the method
        same += replies[0] == replies[1]

    print(f"questions timed                 {len(totals)}")
    print(f"prompt tokens p50               {p50(prompt_tokens):.0f}")
    print(f"prefill p50                     {1000 * p50(prefill_per_token):.1f} ms/token")
    print(f"reply tokens p50                {p50(new_tokens):.0f} (budget {config.max_new_tokens})")
    print(f"decode p50                      {1000 * p50(decode_per_token):.1f} ms/token")
    print(f"decode rate                     {1 / p50(decode_per_token):.1f} tokens/s")
    print(f"generation p50 (no stop rule)   {p50(totals):.2f} s")
    bound = p50(prompt_tokens) * p50(prefill_per_token) + 10 * p50(decode_per_token)
    print(f"floor for a 10-token reply      {bound:.2f} s (prefill + 10 decoded tokens)")
    n = len(with_cache)
    print(f"system-message cache, {n} dev prompts answered with the pipeline's stop rules:")
    for label, times in (("without", without_cache), ("with", with_cache)):
        print(
            f"  {label:<8} p50 {p50(times):.2f} s  p95 {percentile(times, 95):.2f} s  "
            f"mean {statistics.fmean(times):.2f} s"
        )
    saved = p50(without_cache) - p50(with_cache)
    print(
        f"  p50 saved {saved:.2f} s ({p50(without_cache) / p50(with_cache):.2f}x); "
        f"replies identical {same}/{n}"
    )


if __name__ == "__main__":
    main()
