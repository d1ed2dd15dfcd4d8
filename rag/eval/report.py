"""Write an evaluation's output folder: predictions, report.json, report.md and plots.

A *record* is one line of ``predictions.jsonl``: a dict with the item (``id``, ``question``,
``type``, ``gold_answers``), what the bot did (``answer``, ``abstained``, ``quotes``,
``citations``, ``latency_s``, ``retrieved``, ``error``) and its per-item ``metrics``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from rag.eval.metrics import HIT_KS, aggregate, aggregate_by_type
from rag.eval.squad import na_probs, squad_predictions, squad_report

logger = logging.getLogger(__name__)

SUMMARY_METRICS = (
    "lenient_hit",
    "exact_match",
    "f1",
    "quote_verbatim",
    "citation_recall",
    "citation_precision",
    "mean_quote_chars",
    "hit@1",
    "hit@5",
    "hit@10",
    "mrr",
    "abstain_recall",
    "abstain_precision",
    "false_abstain_rate",
    "latency_p50_s",
    "latency_p95_s",
)
TYPE_COLUMNS = (
    "items",
    "lenient_hit",
    "f1",
    "quote_verbatim",
    "citation_recall",
    "hit@5",
    "mrr",
    "abstain_recall",
    "false_abstain_rate",
    "latency_p50_s",
)
PLOT_METRICS = ("lenient_hit", "f1", "citation_recall", "hit@5", "abstain_recall")
SQUAD_PREDICTIONS = "squad_predictions.json"
SQUAD_NA_PROBS = "squad_na_probs.json"
SQUAD_ROWS = (
    ("exact", "exact"),
    ("f1", "f1"),
    ("HasAns exact", "HasAns_exact"),
    ("HasAns f1", "HasAns_f1"),
    ("NoAns accuracy", "NoAns_exact"),
    ("best exact", "best_exact"),
    ("best exact threshold", "best_exact_thresh"),
    ("best f1", "best_f1"),
    ("best f1 threshold", "best_f1_thresh"),
)
CI_METRICS = (
    "lenient_hit",
    "exact_match",
    "f1",
    "citation_recall",
    "citation_precision",
    "hit@1",
    "hit@5",
    "hit@10",
    "mrr",
    "abstain_recall",
    "abstain_precision",
    "false_abstain_rate",
)
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 15
WORST_ITEMS = 10
MAX_CELL_CHARS = 300


def build_report(
    records: Sequence[Mapping[str, Any]],
    metadata: Mapping[str, Any],
    total: int | None = None,
) -> dict:
    """``report.json``'s content: run metadata, metrics overall and per item type.

    Args:
        total: Items in the test set; a report over fewer records is marked ``partial``.
    """
    scores = [r["metrics"] for r in records]
    total = len(records) if total is None else total
    return {
        "partial": len(records) < total,
        "items_done": len(records),
        "items_total": total,
        "metadata": dict(metadata),
        "overall": aggregate(scores),
        "per_type": aggregate_by_type([r["type"] for r in records], scores),
        "squad_v2": squad_report(records),
        "ci95": bootstrap_ci(scores),
    }


def bootstrap_ci(
    scores: Sequence[Mapping[str, Any]],
    metrics: Sequence[str] = CI_METRICS,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, list[float] | None]:
    """95% percentile-bootstrap intervals: the items are resampled with replacement
    ``resamples`` times (fixed ``seed``) and each metric is aggregated again as in the report;
    ``None`` for a metric no resample measured."""
    import numpy as np

    if not scores:
        return dict.fromkeys(metrics)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(scores), size=(resamples, len(scores)))
    values: dict[str, list[float]] = {m: [] for m in metrics}
    for row in draws:
        overall = aggregate([scores[i] for i in row])
        for m in metrics:
            if overall.get(m) is not None:
                values[m].append(overall[m])
    return {
        m: [round(float(q), 4) for q in np.percentile(v, [2.5, 97.5])] if v else None
        for m, v in values.items()
    }


def ci_text(interval: Sequence[float] | None) -> str:
    """``[low, high]`` for a table, or empty when there is no interval."""
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]" if interval else ""


def write_outputs(
    out_dir: Path, records: Sequence[Mapping[str, Any]], report: Mapping[str, Any]
) -> list[Path]:
    """Write every output file into ``out_dir`` (created if needed); return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        replace_jsonl(out_dir / "predictions.jsonl", records),
        write_json(out_dir / "report.json", report),
        write_json(out_dir / SQUAD_PREDICTIONS, squad_predictions(records)),
        write_json(out_dir / SQUAD_NA_PROBS, na_probs(records)),
        write_text(out_dir / "report.md", render_markdown(report, records)),
    ]
    written.extend(write_plots(out_dir / "plots", report, records))
    logger.info("wrote %d files to %s", len(written), out_dir)
    return written


def write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """One JSON object per line, UTF-8, non-ASCII kept readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def append_jsonl(fh: TextIO, row: Mapping[str, Any]) -> None:
    """Append one JSON line to an open file and flush it, so a crash keeps it."""
    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    fh.flush()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file; a line that is not one (a write cut short by a crash)
    is skipped with a warning."""
    rows = []
    for line, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        else:
            logger.warning("%s, line %d: not a JSON object; skipped", path, line)
    return rows


def replace_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Rewrite ``path`` with ``rows`` through a temporary file, so it is never half written."""
    tmp = write_jsonl(path.with_name(path.name + ".tmp"), rows)
    tmp.replace(path)
    return path


def write_json(path: Path, data: Mapping[str, Any]) -> Path:
    """Indented JSON, UTF-8."""
    return write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_text(path: Path, text: str) -> Path:
    """``text`` to ``path``, UTF-8."""
    path.write_text(text, encoding="utf-8")
    return path


# --- text tables ----------------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A metric as table text: 3 decimals for floats, ``n/a`` for ``None``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary_text(overall: Mapping[str, Any]) -> str:
    """A plain-text two-column table of the headline metrics, for the terminal."""
    counts = (
        f"{overall['items']} items ({overall['answerable']} answerable, "
        f"{overall['unanswerable']} unanswerable, {overall['errors']} errors)"
    )
    width = max(len(name) for name in SUMMARY_METRICS)
    lines = [counts] + [
        f"  {name:<{width}}  {format_value(overall.get(name))}" for name in SUMMARY_METRICS
    ]
    return "\n".join(lines)


def md_cell(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    """Text safe inside a Markdown table cell: one line, ``|`` escaped, long text shortened."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|")


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Lines of a Markdown table; cells are escaped with :func:`md_cell`."""
    lines = [
        "| " + " | ".join(md_cell(h) for h in header) + " |",
        "|" + "---|" * len(header),
    ]
    lines.extend("| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows)
    return lines


def worst_records(
    records: Sequence[Mapping[str, Any]], n: int = WORST_ITEMS
) -> list[Mapping[str, Any]]:
    """Up to ``n`` items that erred or missed: errors first, then lowest lenient hit and F1."""

    def failing(m: Mapping[str, Any]) -> bool:
        return bool(m["error"]) or (m["lenient_hit"] is not None and m["lenient_hit"] < 1)

    def badness(r: Mapping[str, Any]) -> tuple[bool, float, float]:
        m = r["metrics"]
        f1 = m["f1"] if m["f1"] is not None else 1.0
        return (not m["error"], m["lenient_hit"] or 0.0, f1)

    return sorted((r for r in records if failing(r["metrics"])), key=badness)[:n]


def _quotes_cell(record: Mapping[str, Any]) -> str:
    """Cited quotes, numbered; for an abstention, the related quotes shown instead."""
    if record["quotes"]:
        return " ".join(f"[{n}] {q}" for n, q in enumerate(record["quotes"], start=1))
    related = [c["quote"] for c in record.get("related", [])]
    return (
        "related: " + " ".join(f"[{n}] {q}" for n, q in enumerate(related, start=1))
        if related
        else ""
    )


def partial_lines(report: Mapping[str, Any]) -> list[str]:
    """A warning for ``report.md`` when the run stopped before the last item."""
    if not report.get("partial"):
        return []
    return [
        "",
        f"**Partial run: {report['items_done']} of {report['items_total']} items** "
        f"({report['metadata'].get('stopped', 'stopped early')}). The metrics cover only these "
        "items; finish the run with the same command plus `--resume`.",
    ]


def problem_lines(meta: Mapping[str, Any]) -> list[str]:
    """A ``report.md`` section listing the test set's problems, if it had any."""
    problems = meta.get("test_set_problems") or []
    if not problems:
        return []
    skipped = meta.get("skipped_ids") or []
    lines = ["## Test-set problems", ""]
    if skipped:
        lines += [f"Left out by --skip-invalid: {', '.join(skipped)}.", ""]
    lines += [f"- {md_cell(p['text'])}" for p in problems]
    return [*lines, ""]


def squad_lines(report: Mapping[str, Any]) -> list[str]:
    """A ``report.md`` section with the official SQuAD v2.0 figures beside ours."""
    squad = report.get("squad_v2") or {}
    official, ours = squad.get("official") or {}, squad.get("ours") or {}
    if not official:
        return []
    rows = [
        (label, format_value(official.get(k)), format_value(ours.get(k))) for label, k in SQUAD_ROWS
    ]
    return [
        "## SQuAD v2.0 (official script's rules)",
        "",
        "The official `evaluate-v2.0.py` figures as fractions (x100 for its percentages), "
        f"from `{SQUAD_PREDICTIONS}` and `{SQUAD_NA_PROBS}` (no-answer probability: "
        f"{squad['na_prob']}). "
        f"HasAns: {official['HasAns_total']} items, NoAns: {official['NoAns_total']}. "
        "The second column uses our normalisation (Unicode punctuation too).",
        "",
        *md_table(("figure", "official normalisation", "ours"), rows),
        "",
    ]


def wall_text(meta: Mapping[str, Any]) -> str:
    """The wall time, with start-up (checks and model load) and questions apart if known."""
    text = f"wall time {format_value(meta.get('wall_s'))} s"
    if meta.get("startup_s") is None:
        return text
    return (
        f"{text} (start-up {format_value(meta['startup_s'])} s including model load, "
        f"questions {format_value(meta.get('questions_s'))} s)"
    )


def corpus_lines(meta: Mapping[str, Any]) -> list[str]:
    """The corpus files' sha256 sums as ``sha256sum`` prints them."""
    sums = meta.get("corpus_sha256")
    if not isinstance(sums, Mapping):
        return [f"- Corpus sha256: `{sums or '?'}`"]
    return ["- Corpus sha256 (`sha256sum` of each file):"] + [
        f"  - `{sha or '?'}  {md_cell(path)}`" for path, sha in sums.items()
    ]


def render_markdown(report: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
    """``report.md``: metadata, summary table, per-type table, worst items, plots."""
    meta = report["metadata"]
    overall = report["overall"]
    lines = [
        "# Evaluation report",
        "",
        f"- Test set: `{meta.get('test_set', '?')}` ({overall['items']} items: "
        f"{overall['answerable']} answerable, {overall['unanswerable']} unanswerable, "
        f"{overall['errors']} errors)",
        f"- Date: {meta.get('date', '?')}; {wall_text(meta)}",
        f"- Models: {md_cell(json.dumps(meta.get('models', {}), ensure_ascii=False))}",
        *corpus_lines(meta),
        *partial_lines(report),
        "",
        "Metric definitions: docs/eval.md.",
        "",
        "## Summary",
        "",
        *md_table(
            ("metric", "value", "95% CI"),
            [
                (m, format_value(overall.get(m)), ci_text(report.get("ci95", {}).get(m)))
                for m in SUMMARY_METRICS
            ],
        ),
        "",
        f"95% CI: percentile bootstrap over items ({BOOTSTRAP_RESAMPLES} resamples, seed "
        f"{BOOTSTRAP_SEED}); it reflects the test set's size, not run-to-run noise.",
        "",
        "## Per type",
        "",
        *md_table(
            ("type", *TYPE_COLUMNS),
            [
                (kind, *(format_value(scores.get(c)) for c in TYPE_COLUMNS))
                for kind, scores in report["per_type"].items()
            ],
        ),
        "",
        *squad_lines(report),
        *problem_lines(meta),
        "## Worst items",
        "",
    ]
    worst = worst_records(records)
    if worst:
        rows = [
            (
                r["id"],
                r["type"],
                r["question"],
                " / ".join(r["gold_answers"]) or "(unanswerable)",
                f"ERROR: {r['error']}" if r.get("error") else r["answer"],
                _quotes_cell(r),
                format_value(r["metrics"]["lenient_hit"]),
                format_value(r["metrics"]["f1"]),
            )
            for r in worst
        ]
        header = ("id", "type", "question", "gold", "prediction", "quotes", "lenient", "f1")
        lines.extend(md_table(header, rows))
    else:
        lines.append("Every item was answered correctly (lenient hit 1).")
    lines += [
        "",
        "## Plots",
        "",
        "![metrics per type](plots/metrics_by_type.png)",
        "![latency](plots/latency.png)",
        "![retrieval hit@k](plots/hit_at_k.png)"
        if has_retrieval(report)
        else "No retrieval plot (hit@k): no item had gold quotes to find.",
        "",
    ]
    return "\n".join(lines)


# --- plots ----------------------------------------------------------------------------------


def _figure(width: float = 7.0, height: float = 4.0) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def type_label(kind: str, scores: Mapping[str, Any]) -> str:
    """An x-axis label: the type and its item count."""
    return f"{kind}\n(n={scores.get('items', 0)})"


def metrics_by_type_figure(per_type: Mapping[str, Mapping[str, Any]]) -> Any:
    """Grouped bars of each headline metric per item type; a metric that does not apply to a
    type (``None``) is a grey ``n/a`` mark, so it cannot be read as a score of 0."""
    fig = _figure(max(7.0, 1.2 * len(per_type) + 3), 4.5)
    ax = fig.add_subplot()
    kinds = list(per_type)
    width = 0.8 / len(PLOT_METRICS)
    for i, metric in enumerate(PLOT_METRICS):
        xs = [x + (i - (len(PLOT_METRICS) - 1) / 2) * width for x in range(len(kinds))]
        values = [per_type[k].get(metric) for k in kinds]
        ax.bar(xs, [_number(v) for v in values], width, label=metric)
        for x, value in zip(xs, values, strict=True):
            if value is None:
                ax.text(
                    x, 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color="grey"
                )
    ax.set_xticks(range(len(kinds)), [type_label(k, per_type[k]) for k in kinds], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (n/a: does not apply)")
    ax.set_title("Metrics per question type")
    fig.legend(loc="outside lower center", ncols=len(PLOT_METRICS), fontsize="small")
    return fig


def plot_metrics_by_type(path: Path, per_type: Mapping[str, Mapping[str, Any]]) -> Path:
    """Grouped bars: each headline metric for each item type (see
    :func:`metrics_by_type_figure`)."""
    metrics_by_type_figure(per_type).savefig(path, dpi=100)
    return path


def plot_latency(path: Path, latencies: Sequence[float], overall: Mapping[str, Any]) -> Path:
    """Histogram of per-item latency in seconds, with the p50 and p95 marked."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure()
    ax = fig.add_subplot()
    ax.hist(latencies or [0.0], bins=min(30, max(5, len(latencies) // 2)))
    for name, style in (("latency_p50_s", "--"), ("latency_p95_s", ":")):
        if overall.get(name) is not None:
            ax.axvline(overall[name], color="black", linestyle=style, label=name)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    ax.set_xlabel("seconds per question")
    ax.set_ylabel("items")
    ax.set_title("Latency")
    fig.savefig(path, dpi=100)
    return path


def plot_hit_at_k(path: Path, report: Mapping[str, Any]) -> Path:
    """Retrieval hit@k for k = 1..10, overall and per type."""
    fig = _figure()
    ax = fig.add_subplot()
    curves = {"overall": report["overall"], **report["per_type"]}
    for name, scores in curves.items():
        ys = [_number(scores.get(f"hit@{k}")) for k in HIT_KS]
        if all(math.isnan(y) for y in ys):
            continue
        style = {"linewidth": 2.5, "color": "black"} if name == "overall" else {"alpha": 0.7}
        ax.plot(HIT_KS, ys, marker="o", label=name, **style)
    ax.set_xticks(HIT_KS)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("hit@k")
    ax.set_title("Retrieval: a gold quote in the top k passages")
    fig.legend(loc="outside right upper", fontsize="small")
    fig.savefig(path, dpi=100)
    return path


def has_retrieval(report: Mapping[str, Any]) -> bool:
    """Whether any item had a gold location, so hit@k was measured."""
    return report["overall"].get("hit@1") is not None


def write_plots(
    plots_dir: Path, report: Mapping[str, Any], records: Sequence[Mapping[str, Any]]
) -> list[Path]:
    """All plots as PNG files in ``plots_dir``; no hit@k plot when no item had gold quotes."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    stale = plots_dir / "hit_at_k.png"
    if not has_retrieval(report) and stale.exists():
        stale.unlink()  # a resumed run must not keep an earlier plot
    return [
        plot_metrics_by_type(plots_dir / "metrics_by_type.png", report["per_type"]),
        plot_latency(
            plots_dir / "latency.png",
            [r["metrics"]["latency_s"] for r in records],
            report["overall"],
        ),
        *([plot_hit_at_k(plots_dir / "hit_at_k.png", report)] if has_retrieval(report) else []),
    ]
