"""Where the answer time goes: prompt prefill and per-token decoding of the generator.

Run: ``.venv/bin/python benchmarks/bench_generation.py``. Prints figures; asserts none.
For each dev question the bot answers, the prompt the pipeline builds is timed twice: one
forward pass over the prompt (prefill), then a greedy reply of up to ``max_new_tokens``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import load_items

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
        citations, lead = bot._citations(result.evidence)
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

    print(f"questions timed                 {len(totals)}")
    print(f"prompt tokens p50               {p50(prompt_tokens):.0f}")
    print(f"prefill p50                     {1000 * p50(prefill_per_token):.1f} ms/token")
    print(f"reply tokens p50                {p50(new_tokens):.0f} (budget {config.max_new_tokens})")
    print(f"decode p50                      {1000 * p50(decode_per_token):.1f} ms/token")
    print(f"decode rate                     {1 / p50(decode_per_token):.1f} tokens/s")
    print(f"generation p50 (no stop rule)   {p50(totals):.2f} s")
    bound = p50(prompt_tokens) * p50(prefill_per_token) + 10 * p50(decode_per_token)
    print(f"floor for a 10-token reply      {bound:.2f} s (prefill + 10 decoded tokens)")


if __name__ == "__main__":
    main()
