"""Fit the short-answer entity picker (``rag.span.PICK_WEIGHTS``) on the dev set, and show
where its margin gate stands.

The items are the answerable ones whose best quote names several entities of the kind the
question asks for; an entity is right when it equals a gold answer (SQuAD normalisation). The
fit is an L2 logistic regression (C = 1). Leave-one-item-out picks on dev show where errors
fall, so the margin is set above them. ``--sets test,readers`` prints how the shipped weights
pick there, for reading, not for fitting.

Run: ``.venv/bin/python benchmarks/fit_span.py [--sets dev,test,readers]``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from rag.config import PROJECT_ROOT, Config
from rag.eval.formats import load_items
from rag.eval.metrics import exact_match
from rag.span import PICK_BIAS, PICK_MARGIN, PICK_WEIGHTS, candidates, pick_features

SETS = {name: PROJECT_ROOT / "data" / "qa" / f"{name}.jsonl" for name in ("dev", "test", "readers")}


def groups_of(bot: Any, path: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per item with several candidate entities: their features, and which are right."""
    groups = []
    for item in load_items(path):
        if not item.answerable:
            continue
        result = bot.search(item.question, list(item.history))
        if result.verdict.abstain or result.kind is None or len(result.lead) != 1:
            continue
        if result.difference is not None:
            continue
        quote = result.lead[0].text
        entities = candidates(result.query, result.kind, quote)
        if len(entities) < 2:
            continue
        texts = [e.text for e in entities]
        likelihoods = bot.likelihood.answers(result.query, quote, texts)
        rarities = [bot.vocabulary.rarity(t) for t in texts]
        features = pick_features(result.query, result.kind, entities, likelihoods, rarities)
        right = [exact_match(e.text, item.answers) for e in entities]
        groups.append((np.array(features), np.array(right)))
    return groups


def fit(groups: list[tuple[np.ndarray, np.ndarray]], c: float = 1.0) -> np.ndarray:
    """Bias and weights of an L2 logistic regression (the bias not penalised), by Newton steps."""
    x = np.vstack([f for f, _ in groups])
    x = np.hstack([np.ones((len(x), 1)), x])
    y = np.concatenate([r for _, r in groups])
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) / c
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + penalty
        w -= np.linalg.solve(hessian, gradient)
    return w


def margin_and_right(w: np.ndarray, features: np.ndarray, right: np.ndarray) -> tuple[float, bool]:
    """The lead of the likeliest entity over the next, and whether it is right."""
    p = 1 / (1 + np.exp(-(w[0] + features @ w[1:])))
    order = np.argsort(-p)
    return float(p[order[0]] - p[order[1]]), bool(right[order[0]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="dev")
    args = parser.parse_args()

    import rag

    bot = rag.load(Config.from_env())
    dev = groups_of(bot, SETS["dev"])
    w = fit(dev)
    print(f"dev items: {len(dev)}; fitted bias {w[0]:.3f}, weights {np.round(w[1:], 3).tolist()}")
    loo = [margin_and_right(fit(dev[:i] + dev[i + 1 :]), *dev[i]) for i in range(len(dev))]
    errors = [m for m, ok in loo if not ok]
    print(f"leave-one-out on dev: {sum(ok for _, ok in loo)}/{len(loo)} right")
    print(f"  highest margin of an error: {max(errors, default=0.0):.2f}")
    print(f"  {'margin':>8} {'taken':>6} {'right':>6}")
    for gate in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        taken = [ok for m, ok in loo if m >= gate]
        print(f"  {gate:>8.1f} {len(taken):>6} {sum(taken):>6}")
    shipped = np.array([PICK_BIAS, *PICK_WEIGHTS])
    for name in [n for n in args.sets.split(",") if n]:
        picks = [margin_and_right(shipped, f, r) for f, r in groups_of(bot, SETS[name])]
        taken = [ok for m, ok in picks if m >= PICK_MARGIN]
        print(f"{name}: shipped weights, margin {PICK_MARGIN}: {sum(taken)}/{len(taken)} right")


if __name__ == "__main__":
    main()
