"""The ``rag`` command line: errors as one line with exit 2, corpus text printed safely."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from rag import cli
from rag.config import PROJECT_ROOT

RAG = PROJECT_ROOT / ".venv" / "bin" / "rag"
OSC = "\x1b]0;pwned\x07"
DOC = (
    f"The Harbour Bridge in Sydney opened to traffic in 1932.{OSC} Its arch is made of steel.\n\n"
    "The bridge was designed by John Bradfield and built by Dorman Long.\n"
)
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _rag(*args: str, index_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if index_dir is not None:
        env["VERBATIM_INDEX_DIR"] = str(index_dir)
    return subprocess.run(
        [str(RAG), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=PROJECT_ROOT,
    )


def _assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> str:
    """The process failed with exit 2 and one ``rag: error:`` line naming ``words``."""
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("rag: error: ")]
    assert done.returncode == 2, done.stderr
    assert len(errors) == 1, done.stderr
    assert "usage:" not in done.stderr
    for word in words:
        assert word in errors[0]
    return errors[0]


@pytest.fixture
def doc(tmp_path) -> Path:
    path = tmp_path / "doc.txt"
    path.write_text(DOC, encoding="utf-8")
    return path


# --- control characters of corpus text --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (OSC, "\\x1b]0;pwned\\x07"),
        ("a\x9b31mb", "a\\x9b31mb"),  # C1 CSI
        ("over\rwrite\x08\x7f\x00", "over\\x0dwrite\\x08\\x7f\\x00"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("access\u202e\u2066 level", "access\\u202e\\u2066 level"),  # bidi override, isolate
        ("“quoted” café 東京 🙂", "“quoted” café 東京 🙂"),
    ],
)
def test_printable_escapes_control_characters_visibly(text, shown):
    assert cli.printable(text) == shown


def test_ask_prints_a_terminal_escape_from_the_corpus_escaped(doc, tmp_path):
    done = _rag(
        "ask",
        "--corpus",
        str(doc),
        "--generator",
        "none",
        "--",
        "When did the Harbour Bridge open to traffic?",
        index_dir=tmp_path / "index",
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "1932.\\x1b]0;pwned\\x07 Its arch" in done.stdout


# --- file-system errors: one line, exit 2 -------------------------------------------------


def test_index_folder_that_is_a_file_is_one_line_error(doc, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    done = _rag("index", str(doc), index_dir=taken)
    _assert_one_line_error(done, str(taken))


def test_index_folder_under_a_file_is_one_line_error(doc, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    done = _rag("search", "bridge", "--corpus", str(doc), index_dir=taken / "index")
    _assert_one_line_error(done, str(taken / "index"))


def test_index_dir_flag_chooses_the_index_folder(doc, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    done = _rag("index", str(doc), "--index-dir", str(taken))
    line = _assert_one_line_error(done, str(taken))
    assert "unrecognized" not in line


@pytest.mark.skipif(ROOT, reason="root may write a read-only folder")
@pytest.mark.parametrize("mode", [0o500, 0o000])
def test_index_folder_without_write_access_is_one_line_error(doc, tmp_path, mode):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(mode)
    try:
        done = _rag("index", str(doc), index_dir=locked)
    finally:
        locked.chmod(0o700)
    _assert_one_line_error(done, str(locked))


def test_an_os_error_in_any_command_is_one_line_naming_the_path(monkeypatch, capsys):
    def fail(args):
        raise PermissionError(13, "Permission denied", "/srv/index/CURRENT")

    monkeypatch.setattr(cli, "cmd_index", fail)
    assert cli.main(["index"]) == 2
    assert capsys.readouterr().err == "rag: error: /srv/index/CURRENT: Permission denied\n"


def test_an_unexpected_error_is_one_line_too(monkeypatch, capsys):
    def fail(args):
        raise KeyError("counts")

    monkeypatch.setattr(cli, "cmd_index", fail)
    assert cli.main(["index"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error: unexpected KeyError") and err.count("\n") == 1


def test_a_multi_line_error_message_is_printed_on_one_line(monkeypatch, capsys):
    def fail(args):
        raise RuntimeError("first line\nsecond line\x1b[2J")

    monkeypatch.setattr(cli, "cmd_index", fail)
    assert cli.main(["index"]) == 2
    assert capsys.readouterr().err == "rag: error: first line second line\\x1b[2J\n"


def test_index_command_rebuilds_stored_text_that_differs_from_the_file(doc, tmp_path):
    import json

    from index import store
    from index.store import current_build

    index_dir = tmp_path / "index"
    assert _rag("index", str(doc), index_dir=index_dir).returncode == 0
    stored = current_build(index_dir) / "corpus.json"
    corpus = json.loads(stored.read_text(encoding="utf-8"))
    for group in ("documents", "sentences", "chunks"):
        for unit in corpus[group]:
            unit["text"] = unit["text"].replace("1932", "1999")
    stored.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
    # A careful tamperer also fixes the stored checksum.
    manifest_path = stored.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["corpus.json"] = store._sha256_file(stored)
    manifest_path.write_text(json.dumps(manifest))
    done = _rag("index", str(doc), index_dir=index_dir)
    assert done.returncode == 0, done.stderr
    assert "differs from the file" in done.stderr
    rebuilt = (current_build(index_dir) / "corpus.json").read_text(encoding="utf-8")
    assert "1999" not in rebuilt and "1932" in rebuilt
