"""The abstention sweep on the dev set: answerable wrongly abstained against unanswerable
abstained, for each similarity threshold. The operating point in ``rag/config.py`` is chosen
from this table, on dev only.

Run: ``.venv/bin/python benchmarks/sweep_abstention.py [--set dev]``. Prints figures only.
"""

from __future__ import annotations

import argparse

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import load_items
from rag.eval.metrics import lenient_hit

THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", default="dev", help="a file name under data/qa/ (dev)")
    args = parser.parse_args()

    import rag

    # Similarity is applied below, so that one pass serves every threshold.
    bot = rag.load(Config.from_env(), abstain_min_similarity=0.0)
    items = load_items(PROJECT_ROOT / "data" / "qa" / f"{args.set}.jsonl")
    answerable = sum(i.answerable for i in items)
    print(f"{args.set}: {answerable} answerable, {len(items) - answerable} unanswerable")
    print(f"{'min sim':>7}{'hit':>8}{'wrongly abst.':>15}{'unans. abst.':>14}")
    rows = []
    for item in items:
        result = bot.search(item.question, list(item.history))
        text = ""
        if result.evidence:
            citations, lead = bot._citations(result)
            text = " ".join(c.quote for c in citations[:lead])
        hit = lenient_hit(text, item.answers) if item.answers else 0.0
        rows.append((item.answerable, result.verdict.abstain, result.verdict.similarity, hit))
    for threshold in THRESHOLDS:
        wrong = [ab or sim < threshold for ok, ab, sim, _ in rows if ok]
        right = [ab or sim < threshold for ok, ab, sim, _ in rows if not ok]
        hits = [0.0 if (ab or sim < threshold) else hit for ok, ab, sim, hit in rows if ok]
        print(
            f"{threshold:7.2f}{sum(hits) / len(hits):8.3f}"
            f"{sum(wrong) / len(wrong):15.3f}{sum(right) / max(len(right), 1):14.3f}"
        )


if __name__ == "__main__":
    main()
