"""``rag eval``'s command-line options, exit codes and the checks of its output paths.

The options live here, not in ``rag/cli.py``, so evaluation options change in one place.
Output paths are checked before any model loads: a wrong ``--out`` must not cost a whole run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 3

PREDICTIONS = "predictions.jsonl"

EPILOG = """\
exit status:
  0  the run finished and every gate passed
  1  a --fail-under or --fail-over gate failed (each failure is printed to stderr)
  2  bad input or usage: the test set, an option, --out or --export-ragas; nothing was asked
  3  the run itself failed: interrupted (Ctrl-C) or crashed. The items done so far are in
     --out with a report marked "partial"; finish it with the same command plus --resume.

Metric definitions, test-set formats and the output folder: docs/eval.md.
"""


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``rag eval``'s arguments, help texts and exit-status epilog to ``parser``."""
    parser.description = "Ask the bot every question of a test set, score it and write a report."
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "file",
        help="the test set: .jsonl (project or RAGAS fields), .json (SQuAD v2.0 or a list of "
        "RAGAS records) or .csv; to compare two runs use 'rag eval-compare RUN_A RUN_B'",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="output folder, new or empty (default eval-out/<YYYYmmdd-HHMMSS>)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run saved in --out: skip the ids already in its predictions.jsonl",
    )
    parser.add_argument("--limit", type=positive_int, metavar="N", help="only the first N items")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse a test set with any problem (exit 2 with the list) instead of warning",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave out the items with a problem (malformed ones included) and run the rest",
    )
    parser.add_argument(
        "-k",
        "--k",
        type=positive_int,
        default=None,
        dest="k",
        metavar="N",
        help="passages the bot retrieves to answer (retrieval metrics always look at 10)",
    )
    parser.add_argument(
        "--generator", help="'smollm2', 'none' (extractive), a model folder or a .gguf file"
    )
    parser.add_argument(
        "--writer", choices=("quote", "model"), help="quote (default) or model-written answers"
    )
    parser.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if the overall METRIC is below VALUE, e.g. lenient_hit=0.8 (repeatable)",
    )
    parser.add_argument(
        "--fail-over",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if the overall METRIC is above VALUE: false_abstain_rate, latency_p50_s "
        "or latency_p95_s, e.g. latency_p95_s=5 (repeatable)",
    )
    parser.add_argument(
        "--export-ragas",
        metavar="FILE",
        help="also write the run as RAGAS evaluation rows (JSONL) to FILE",
    )
    parser.add_argument(
        "--corpus", nargs="+", metavar="FILE", help="index these files instead of the article"
    )


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``rag eval-compare``'s arguments to ``parser``."""
    parser.description = (
        "Compare two rag eval output folders: headline metrics with deltas, per-type deltas "
        "and the items whose verdict changed (hit, miss, abstained, error)."
    )
    parser.add_argument("run_a", metavar="RUN_A", help="the --out folder of the earlier run")
    parser.add_argument("run_b", metavar="RUN_B", help="the --out folder of the later run")
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write the Markdown here (default RUN_B/compare-<RUN_A folder name>.md)",
    )


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (argparse names the option at fault).

    Raises:
        argparse.ArgumentTypeError: ``text`` is not a whole number >= 1.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def check_out_dir(out_dir: Path, resume: bool) -> None:
    """Refuse an ``--out`` the run could not write, or would mix with an earlier run.

    Raises:
        ValueError: ``out_dir`` is a file, is a folder holding files without ``resume``, holds
            files but no predictions to resume from, or cannot be created or written.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(
            f"--out {out_dir}: this is a file; give a folder for the report (created if missing)"
        )
    holds_files = out_dir.is_dir() and any(out_dir.iterdir())
    if holds_files and not resume:
        raise ValueError(
            f"--out {out_dir}: the folder already holds files; give a new or empty folder, "
            "or add --resume to continue the run saved there"
        )
    if holds_files and not (out_dir / PREDICTIONS).is_file():
        raise ValueError(
            f"--resume: {out_dir} has no {PREDICTIONS} to continue from; "
            "give the --out folder of an earlier run"
        )
    check_writable_folder(out_dir, "--out")


def check_export_path(path: Path) -> None:
    """Refuse an ``--export-ragas`` path that is a folder or cannot be written.

    Raises:
        ValueError: ``path`` is a folder, or its folder cannot be created or written.
    """
    if path.is_dir():
        raise ValueError(
            f"--export-ragas {path}: this is a folder; give a file name, "
            f"e.g. {path / 'ragas.jsonl'}"
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"--export-ragas {path}: the file is not writable")
    check_writable_folder(path.parent, "--export-ragas")


def check_writable_folder(folder: Path, option: str) -> None:
    """Whether ``folder`` exists as a writable folder or could be created as one.

    Raises:
        ValueError: a part of the path is a file, or the nearest existing folder is read-only.
    """
    existing = Path(os.path.abspath(folder))
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{option} {folder}: {existing} is a file, so no folder can be made there")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {folder}: no permission to write in {existing}")
