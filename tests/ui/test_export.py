"""The chat's Markdown export: where it is written and how long it is kept."""

from __future__ import annotations

import os
import time

from ui.export import FILE_NAME, KEEP_S, prune, write_export

TURNS = [{"question": "Who met in Geneva?", "answer": None}]


def test_an_empty_chat_writes_nothing(tmp_path):
    assert write_export([], tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_the_same_chat_is_written_to_the_same_file(tmp_path):
    first = write_export(TURNS, tmp_path)
    assert first is not None and first.name == FILE_NAME
    assert write_export(TURNS, tmp_path) == first
    assert "Who met in Geneva?" in first.read_text(encoding="utf-8")


def test_exports_older_than_a_day_are_removed_when_the_next_is_written(tmp_path):
    old = write_export(TURNS, tmp_path)
    past = time.time() - KEEP_S - 60
    os.utime(old, (past, past))
    new = write_export([{"question": "And in Vienna?", "answer": None}], tmp_path)
    assert new is not None and new.exists()
    assert not old.parent.exists()


def test_prune_keeps_recent_exports_and_other_files(tmp_path):
    recent = write_export(TURNS, tmp_path)
    other = tmp_path / "notes.txt"
    other.write_text("kept", encoding="utf-8")
    prune(tmp_path, keep_s=3600)
    assert recent.exists() and other.exists()
