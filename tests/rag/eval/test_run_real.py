"""``rag eval`` on the dev set with the real pipeline: a few items without a generator, then the
whole set with SmolLM2 behind floors."""

from __future__ import annotations

import argparse
import json

import pytest

from rag.config import PROJECT_ROOT
from rag.eval.run import run_eval

DEV_SET = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"
OUTPUTS = (
    "predictions.jsonl",
    "report.json",
    "report.md",
    "plots/metrics_by_type.png",
    "plots/latency.png",
    "plots/hit_at_k.png",
)


def test_eval_on_dev_set_quotes_verbatim_and_writes_every_file(extractive_bot, tmp_path):
    args = argparse.Namespace(
        file=str(DEV_SET),
        out=str(tmp_path / "out"),
        limit=8,
        k=None,
        generator=None,
        fail_under=["quote_verbatim=1.0"],
        export_ragas=str(tmp_path / "ragas.jsonl"),
        corpus=None,
    )
    assert run_eval(args, extractive_bot.config, bot=extractive_bot) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["overall"]["items"] == 8
    assert report["overall"]["quote_verbatim"] == 1.0
    assert [name for name in OUTPUTS if not (tmp_path / "out" / name).is_file()] == []
    assert (tmp_path / "ragas.jsonl").is_file()


@pytest.mark.timeout(1800)  # ~80 s alone; a busy shared machine can make it several times that
def test_full_pipeline_on_the_whole_dev_set_stays_above_its_floors(dev_run):
    overall = json.loads((dev_run.out / "report.json").read_text(encoding="utf-8"))["overall"]
    figures = {metric: overall[metric] for metric in dev_run.floors}
    print(figures)
    assert dev_run.status == 0, figures
