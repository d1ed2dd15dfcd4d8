"""``rag eval-compare``: two report folders side by side."""

from __future__ import annotations

import copy
import json

import pytest

from rag.cli import main
from rag.eval.compare import changes, compare_runs, load_run
from rag.eval.report import build_report, write_outputs


def _record(id_, type_, hit, abstained=False, answerable=True):
    return {
        "id": id_,
        "question": f"Question {id_}?",
        "type": type_,
        "answerable": answerable,
        "gold_answers": ["x"] if answerable else [],
        "gold_quotes": [],
        "answer": "" if abstained else "x",
        "abstained": abstained,
        "quotes": [],
        "citations": [],
        "related": [],
        "latency_s": 0.1,
        "retrieved": [],
        "error": None,
        "metrics": {
            "answerable": answerable,
            "abstained": abstained,
            "error": False,
            "exact_match": hit,
            "f1": hit,
            "lenient_hit": hit,
            "quotes_checked": 0,
            "quotes_verbatim": 0,
            "n_citations": 0,
            "citation_chars": 0,
            "citation_recall": None,
            "citation_precision": None,
            "retrieval_rank": None,
            "latency_s": 0.1,
        },
    }


A = [
    _record("q1", "number", 1.0),
    _record("q2", "number", 0.0),
    _record("q3", "who", 1.0),
    _record("q4", "unanswerable", 1.0, abstained=True, answerable=False),
]
B = [
    _record("q1", "number", 0.0),  # hit -> miss
    _record("q2", "number", 1.0),  # miss -> hit
    _record("q3", "who", 0.0, abstained=True),  # hit -> abstained
    _record("q4", "unanswerable", 0.0, answerable=False),  # abstained -> miss (answered)
]


@pytest.fixture
def runs(tmp_path):
    for name, records in (("before", A), ("after", B)):
        write_outputs(tmp_path / name, records, build_report(records, {"test_set": "set.jsonl"}))
    return tmp_path / "before", tmp_path / "after"


def test_changes_list_every_verdict_change_regressions_first(runs):
    found = changes(load_run(runs[0]), load_run(runs[1]))
    assert [(c.id, c.before, c.after) for c in found] == [
        ("q3", "hit", "abstained"),
        ("q1", "hit", "miss"),
        ("q4", "abstained", "miss"),
        ("q2", "miss", "hit"),
    ]


def test_compare_writes_headline_and_per_type_deltas_into_run_b(runs):
    text, path = compare_runs(str(runs[0]), str(runs[1]))
    assert path == runs[1] / "compare-before.md"
    assert path.read_text(encoding="utf-8") == text
    assert "| lenient_hit | 0.750 | 0.250 | -0.500 |" in text
    assert "| number | 2 / 2 | 0.500 → 0.500 (+0.000) |" in text
    assert "| q1 | number | hit → miss | Question q1? |" in text


def test_unchanged_runs_say_no_item_changed(runs, tmp_path):
    text, _ = compare_runs(str(runs[0]), str(runs[0]), str(tmp_path / "same.md"))
    assert "No item changed verdict" in text


def test_cli_eval_compare_prints_and_honours_out(runs, tmp_path, capsys):
    out = tmp_path / "cmp.md"
    assert main(["eval-compare", str(runs[0]), str(runs[1]), "--out", str(out)]) == 0
    assert "## Items whose verdict changed (4)" in capsys.readouterr().out
    assert out.is_file()


def test_a_folder_that_is_not_a_run_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["eval-compare", str(tmp_path / "empty"), str(tmp_path / "empty")]) == 2
    assert "report.json is missing; give the --out folder of a rag eval run" in (
        capsys.readouterr().err
    )


def test_rag_eval_file_still_parses_as_a_test_set():
    from rag.cli import build_parser

    args = build_parser().parse_args(["eval", "data/qa/dev.jsonl"])
    assert (args.command, args.file) == ("eval", "data/qa/dev.jsonl")


def test_partial_run_is_flagged(runs):
    report = json.loads((runs[1] / "report.json").read_text(encoding="utf-8"))
    partial = copy.deepcopy(report) | {"partial": True}
    (runs[1] / "report.json").write_text(json.dumps(partial), encoding="utf-8")
    text, _ = compare_runs(str(runs[0]), str(runs[1]))
    assert "a run is partial" in text
