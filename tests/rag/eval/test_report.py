"""Writing the output folder from small fake prediction records."""

from __future__ import annotations

import json

import pytest

from rag.eval.report import (
    build_report,
    md_cell,
    render_markdown,
    summary_text,
    worst_records,
    write_outputs,
)

META = {"test_set": "set.jsonl", "date": "2024-01-01T00:00:00+00:00", "wall_s": 1.5}


def _record(id_: str, type_: str = "number", lenient: float = 1.0, error: str | None = None):
    return {
        "id": id_,
        "question": f"Question {id_}?",
        "type": type_,
        "answerable": True,
        "gold_answers": ["105,000"],
        "gold_quotes": ["deaths reached 105,000"],
        "answer": "Deaths reached 105,000 | last year. [1]",
        "abstained": False,
        "quotes": ["Deaths reached 105,000 last year."],
        "citations": [],
        "related": [],
        "latency_s": 0.2,
        "retrieved": [{"rank": 1, "source": "doc.txt", "start": 0, "end": 10}],
        "error": error,
        "metrics": {
            "answerable": True,
            "abstained": False,
            "error": error is not None,
            "exact_match": 0.0,
            "f1": lenient / 2,
            "lenient_hit": lenient,
            "quotes_checked": 1,
            "quotes_verbatim": 1,
            "n_citations": 1,
            "citation_chars": 33,
            "citation_recall": 1.0,
            "citation_precision": 1.0,
            "retrieval_rank": 1,
            "latency_s": 0.2,
        },
    }


RECORDS = [
    _record("a"),
    _record("b", "who", lenient=0.0),
    _record("c", "who", lenient=0.0, error="too long"),
]


def test_build_report_has_overall_per_type_and_metadata():
    report = build_report(RECORDS, META)
    assert report["overall"]["items"] == 3
    assert sorted(report["per_type"]) == ["number", "who"]
    assert report["metadata"] == META


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """An output folder written once from RECORDS."""
    folder = tmp_path_factory.mktemp("report")
    write_outputs(folder, RECORDS, build_report(RECORDS, META))
    return folder


def test_write_outputs_creates_every_file(out):
    names = {p.relative_to(out).as_posix() for p in out.rglob("*.*")}
    assert names == {
        "predictions.jsonl",
        "report.json",
        "report.md",
        "squad_predictions.json",
        "squad_na_probs.json",
        "plots/metrics_by_type.png",
        "plots/latency.png",
        "plots/hit_at_k.png",
    }


def test_report_json_parses(out):
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["overall"]["lenient_hit"] == 1 / 3


def test_predictions_have_one_line_per_record(out):
    lines = (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c"]


def test_plots_are_png_files(out):
    assert (out / "plots" / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_md_cell_escapes_pipes_and_newlines():
    assert md_cell("a | b\nc") == "a \\| b c"


def test_markdown_escapes_pipes_in_worst_items():
    text = render_markdown(build_report(RECORDS, META), RECORDS)
    assert "Deaths reached 105,000 \\| last year." in text


def test_worst_records_put_errors_first_and_skip_correct_items():
    assert [r["id"] for r in worst_records(RECORDS)] == ["c", "b"]


def test_summary_text_shows_na_for_unmeasured_metrics():
    text = summary_text(build_report(RECORDS, META)["overall"])
    assert "abstain_recall" in text and "n/a" in text


# --- plots: n/a is not 0, counts per type, no empty retrieval plot ---------------------------


def _no_gold(record: dict) -> dict:
    metrics = {
        **record["metrics"],
        "citation_recall": None,
        "citation_precision": None,
        "retrieval_rank": None,
    }
    return {**record, "gold_quotes": [], "metrics": metrics}


def test_metrics_by_type_marks_a_metric_that_does_not_apply_as_na():
    from rag.eval.report import PLOT_METRICS, metrics_by_type_figure

    report = build_report([_no_gold(r) for r in RECORDS], META)
    ax = metrics_by_type_figure(report["per_type"]).axes[0]
    missing = sum(
        scores.get(m) is None for scores in report["per_type"].values() for m in PLOT_METRICS
    )
    assert missing > 0
    assert [t.get_text() for t in ax.texts].count("n/a") == missing


def test_metrics_by_type_labels_show_item_counts():
    from rag.eval.report import metrics_by_type_figure

    ax = metrics_by_type_figure(build_report(RECORDS, META)["per_type"]).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["number\n(n=1)", "who\n(n=2)"]


def test_without_gold_quotes_no_hit_at_k_plot_and_no_warning(tmp_path, recwarn, caplog):
    records = [_no_gold(r) for r in RECORDS]
    write_outputs(tmp_path, records, build_report(records, META))
    assert not (tmp_path / "plots" / "hit_at_k.png").exists()
    assert (tmp_path / "plots" / "metrics_by_type.png").exists()
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "No retrieval plot (hit@k): no item had gold quotes" in text
    assert "hit_at_k.png" not in text
    assert [str(w.message) for w in recwarn] == []
    assert [r for r in caplog.records if r.levelname == "WARNING"] == []


# --- bootstrap confidence intervals ---------------------------------------------------------


def test_bootstrap_ci_is_fixed_by_its_seed_and_brackets_the_value():
    from rag.eval.report import bootstrap_ci

    scores = [_record(str(i), lenient=float(i % 2))["metrics"] for i in range(20)]
    first, again = bootstrap_ci(scores), bootstrap_ci(scores)
    assert first == again
    low, high = first["lenient_hit"]
    assert low < 0.5 < high
    assert first["citation_recall"] == [1.0, 1.0]
    assert first["abstain_recall"] is None


def test_report_md_shows_the_interval_beside_each_headline_metric():
    report = build_report(RECORDS, META)
    text = render_markdown(report, RECORDS)
    assert "| metric | value | 95% CI |" in text
    low, high = report["ci95"]["lenient_hit"]
    assert f"| lenient_hit | 0.333 | [{low:.3f}, {high:.3f}] |" in text
