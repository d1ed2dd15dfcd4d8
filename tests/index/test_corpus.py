from __future__ import annotations

import pytest

from index.corpus import read_corpus


def test_non_utf8_file_is_named(tmp_path):
    bad = tmp_path / "latin.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.txt: not valid UTF-8"):
        read_corpus([bad])


def test_empty_file_is_named(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(ValueError, match=r"empty\.txt: file is empty"):
        read_corpus([empty])


def test_binary_file_is_refused(tmp_path):
    blob = tmp_path / "blob.txt"
    blob.write_bytes(b"abc\x00def")
    with pytest.raises(ValueError, match="binary"):
        read_corpus([blob])


def test_folder_reads_text_and_markdown(tmp_path):
    (tmp_path / "a.txt").write_text("Alpha.")
    (tmp_path / "b.md").write_text("# Beta\n\nBeta text.")
    (tmp_path / "c.pdf").write_bytes(b"%PDF")
    assert [d.source for d in read_corpus([tmp_path])] == ["a.txt", "b.md"]


def test_unsupported_suffix_is_refused(tmp_path):
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(b"%PDF")
    with pytest.raises(ValueError, match="only .txt and .md"):
        read_corpus([pdf])


def test_missing_path_is_named(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_corpus([tmp_path / "nope.txt"])
