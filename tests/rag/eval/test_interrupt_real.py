"""A real ``rag eval`` stopped with SIGINT halfway, then finished with ``--resume``: the
partial files are valid and the resumed report equals an uninterrupted run's (latency aside)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rag.config import PROJECT_ROOT

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"
LIMIT, STOP_AFTER = 12, 6
TIMING = ("latency", "retrieve_s", "generate_s")


def _eval(out, *extra):
    command = [sys.executable, "-m", "rag.cli", "eval", str(DEV), "--limit", str(LIMIT)]
    command += ["--generator", "none", "--out", str(out), *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _untimed(value):
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not any(t in k for t in TIMING)}
    return value


@pytest.mark.timeout(1800)
def test_sigint_halfway_then_resume_equals_an_uninterrupted_run_real(tmp_path):
    out = tmp_path / "stopped"
    process = _eval(out)
    deadline = time.monotonic() + 1500
    while len(_lines(out / "predictions.jsonl")) < STOP_AFTER:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 3, err.decode()
    records = [json.loads(line) for line in _lines(out / "predictions.jsonl")]
    partial = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert STOP_AFTER <= len(records) < LIMIT
    assert (partial["partial"], partial["items_done"]) == (True, len(records))
    assert partial["metadata"]["stopped"] == "interrupted"

    resumed = _eval(out, "--resume")
    _, err = resumed.communicate(timeout=1500)
    assert resumed.returncode == 0, err.decode()
    whole = _eval(tmp_path / "whole")
    _, err = whole.communicate(timeout=1500)
    assert whole.returncode == 0, err.decode()

    finished = json.loads((out / "report.json").read_text(encoding="utf-8"))
    uninterrupted = json.loads((tmp_path / "whole" / "report.json").read_text(encoding="utf-8"))
    assert (finished["partial"], finished["metadata"]["resumed_items"]) == (False, len(records))
    for part in ("overall", "per_type", "squad_v2", "ci95"):
        assert _untimed(finished[part]) == _untimed(uninterrupted[part]), part
