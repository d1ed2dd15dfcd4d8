"""``rag eval-compare RUN_A RUN_B``: two report folders side by side.

Headline metrics with deltas, per-type deltas, and the items whose verdict changed (hit, miss,
abstained or error), so a change to the bot can be judged item by item.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.eval.options import PREDICTIONS
from rag.eval.report import SUMMARY_METRICS, format_value, md_table, read_jsonl

REPORT = "report.json"
TYPE_METRICS = ("lenient_hit", "f1", "citation_recall", "hit@5", "abstain_recall")
# Order of the changed items: regressions first.
CHANGE_ORDER = ("hit", "abstained", "miss", "error")


@dataclass(frozen=True)
class Run:
    """A report folder: its name, ``report.json`` and records by id."""

    name: str
    report: dict[str, Any]
    records: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Change:
    """An item whose verdict differs between the runs."""

    id: str
    type: str
    question: str
    before: str
    after: str


def load_run(folder: Path) -> Run:
    """Read a ``rag eval`` output folder.

    Raises:
        ValueError: the folder or its ``report.json`` / ``predictions.jsonl`` is missing or
            not valid.
    """
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder; give the --out folder of a rag eval run")
    try:
        report = json.loads((folder / REPORT).read_text(encoding="utf-8"))
        records = read_jsonl(folder / PREDICTIONS)
    except FileNotFoundError as exc:
        raise ValueError(
            f"{folder}: {Path(str(exc.filename)).name} is missing; give the --out folder of a "
            "rag eval run"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{folder / REPORT}: not valid JSON ({exc.msg})") from exc
    if not isinstance(report, dict) or "overall" not in report:
        raise ValueError(f"{folder / REPORT}: not a rag eval report (no 'overall' metrics)")
    return Run(folder.resolve().name, report, {r["id"]: r for r in records if "id" in r})


def verdict(record: Mapping[str, Any]) -> str:
    """``error``, ``abstained``, or for an answer ``hit`` (lenient hit 1) or ``miss``."""
    if record.get("error"):
        return "error"
    if record["abstained"]:
        return "abstained"
    return "hit" if record["metrics"].get("lenient_hit") == 1 else "miss"


def changes(a: Run, b: Run) -> list[Change]:
    """Items in both runs whose verdict changed, regressions (from hit) first."""
    found = []
    for item_id, old in a.records.items():
        new = b.records.get(item_id)
        if new is None or verdict(old) == verdict(new):
            continue
        found.append(Change(item_id, old["type"], old["question"], verdict(old), verdict(new)))
    return sorted(found, key=lambda c: (CHANGE_ORDER.index(c.before), c.after, c.id))


def delta(a: Any, b: Any) -> str:
    """``b - a`` with a sign, or ``n/a`` when either is missing."""
    if a is None or b is None:
        return "n/a"
    return f"{b - a:+.3f}"


def headline_rows(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """(metric, A, B, delta) for the summary metrics and the item counts."""
    rows = [
        ("items", str(a.get("items")), str(b.get("items")), delta(a.get("items"), b.get("items")))
    ]
    for name in SUMMARY_METRICS:
        va, vb = a.get(name), b.get(name)
        rows.append((name, format_value(va), format_value(vb), delta(va, vb)))
    return rows


def type_rows(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Per type: the item counts, then ``A → B (delta)`` for each of :data:`TYPE_METRICS`."""
    rows = []
    for kind in sorted(set(a) | set(b)):
        sa, sb = a.get(kind, {}), b.get(kind, {})
        cells = [
            f"{format_value(sa.get(m))} → {format_value(sb.get(m))} ({delta(sa.get(m), sb.get(m))})"
            for m in TYPE_METRICS
        ]
        rows.append((kind, f"{sa.get('items', 0)} / {sb.get('items', 0)}", *cells))
    return rows


def render_compare(a: Run, b: Run) -> str:
    """The comparison as Markdown."""
    found = changes(a, b)
    only_a = sorted(set(a.records) - set(b.records))
    only_b = sorted(set(b.records) - set(a.records))
    lines = [
        f"# Comparison: A = {a.name}, B = {b.name}",
        "",
        f"- A: {a.report.get('metadata', {}).get('test_set', '?')}, "
        f"{a.report.get('metadata', {}).get('date', '?')}",
        f"- B: {b.report.get('metadata', {}).get('test_set', '?')}, "
        f"{b.report.get('metadata', {}).get('date', '?')}",
    ]
    if a.report.get("partial") or b.report.get("partial"):
        lines.append("- Warning: a run is partial; its metrics cover only the items done.")
    lines += [
        "",
        "## Headline metrics",
        "",
        *md_table(
            ("metric", "A", "B", "B - A"), headline_rows(a.report["overall"], b.report["overall"])
        ),
        "",
        "## Per type (A → B (B - A))",
        "",
        *md_table(
            ("type", "items A / B", *TYPE_METRICS),
            type_rows(a.report.get("per_type", {}), b.report.get("per_type", {})),
        ),
        "",
        f"## Items whose verdict changed ({len(found)})",
        "",
    ]
    if found:
        rows = [(c.id, c.type, f"{c.before} → {c.after}", c.question) for c in found]
        lines += md_table(("id", "type", "A → B", "question"), rows)
    else:
        lines.append("No item changed verdict (hit, miss, abstained, error).")
    if only_a or only_b:
        lines += [
            "",
            f"Only in A: {', '.join(only_a) or 'none'}; only in B: {', '.join(only_b) or 'none'}.",
        ]
    return "\n".join(lines) + "\n"


def compare_path(run_a: Path, run_b: Path, out: str | None) -> Path:
    """Where the comparison goes: ``--out``, or ``RUN_B/compare-<A name>.md``."""
    return Path(out) if out else run_b / f"compare-{run_a.resolve().name}.md"


def compare_runs(run_a: str, run_b: str, out: str | None = None) -> tuple[str, Path]:
    """Compare two report folders and write the Markdown; return it and where it went.

    Raises:
        ValueError: a folder is not a ``rag eval`` output folder, or ``out`` is a folder.
    """
    a, b = load_run(Path(run_a)), load_run(Path(run_b))
    path = compare_path(Path(run_a), Path(run_b), out)
    if path.is_dir():
        raise ValueError(
            f"--out {path}: this is a folder; give a file name, e.g. {path / 'compare.md'}"
        )
    text = render_compare(a, b)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text, path
