"""Issue #16: a corrupt CURRENT, stored text that differs from the file, builds that overlap
or were killed, and duplicate marking at the scale of a 50 MB corpus."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index import store
from index.build import build_index, ensure_index, rebuild_reason
from index.corpus import read_corpus, sha256_text
from index.progress import progress_bar
from index.split import mark_duplicates, split_document
from index.store import (
    LOCK,
    POINTER,
    IndexNotWritableError,
    IndexUnusableError,
    build_lock,
    current_build,
    load_index,
)
from rag.config import PROJECT_ROOT, Config
from rag.types import Document, Sentence


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _builds(config: Config) -> list[str]:
    return sorted(p.name for p in Path(config.index_dir).glob("build-*"))


# --- a corrupt or unreadable CURRENT means "no index", so it is rebuilt ---------------------


@pytest.mark.parametrize("kind", ["random bytes", "parent folder", "absolute path", "empty"])
def test_corrupt_pointer_means_rebuild(small, tmp_path, embedder, kind):
    index_dir = Path(small.index_dir)
    pointer = index_dir / POINTER
    # A complete, valid build outside the index folder: following CURRENT there would load it.
    outside = tmp_path / "elsewhere" / "build-outside"
    shutil.copytree(current_build(index_dir), outside)
    contents = {
        "random bytes": bytes(range(128, 192)),
        "parent folder": b"../elsewhere/build-outside",
        "absolute path": str(outside).encode(),
        "empty": b"",
    }
    pointer.write_bytes(contents[kind])
    assert current_build(index_dir) is None
    assert rebuild_reason(small, read_corpus(small.corpus)) == "no index built yet"
    with pytest.raises(IndexUnusableError, match="no index built"):
        load_index(index_dir)
    index, reason = ensure_index(small, lambda: embedder)
    assert reason == "no index built yet"
    assert index.path.parent == index_dir and list(index.documents) == ["town.txt"]
    assert current_build(index_dir) == index.path


def test_pointer_that_is_a_folder_is_replaced_by_the_rebuild(small, embedder):
    pointer = Path(small.index_dir) / POINTER
    pointer.unlink()
    pointer.mkdir()
    index, reason = ensure_index(small, lambda: embedder)
    assert reason == "no index built yet" and pointer.is_file()
    assert current_build(Path(small.index_dir)) == index.path


def test_unwritable_index_folder_says_why_it_cannot_rebuild(small, embedder):
    """A rebuild that cannot write: one line naming the folder and why a rebuild was needed."""
    blocker = Path(small.corpus[0])  # a file where the index folder's parent should be
    config = small.replace(index_dir=str(blocker / "built"))
    with pytest.raises(IndexNotWritableError) as caught:
        ensure_index(config, lambda: embedder)
    message = str(caught.value)
    assert isinstance(caught.value, OSError) and "\n" not in message
    assert f"{blocker / 'built'} is not writable" in message
    assert "no index built yet" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_index_folder_with_corrupt_pointer_says_why(small, embedder):
    index_dir = Path(small.index_dir)
    (index_dir / POINTER).write_bytes(bytes(range(128, 192)))
    index_dir.chmod(0o555)
    try:
        with pytest.raises(IndexNotWritableError, match=f"{index_dir} is not writable"):
            ensure_index(small, lambda: embedder)
    finally:
        index_dir.chmod(0o755)


# --- the stored text must be the file's text, at the stored offsets ------------------------


def _edit_stored_corpus(config: Config, change: Callable[[dict], None]) -> None:
    """Edit the live corpus.json and recompute its checksum, as a careful tamperer would."""
    build = current_build(Path(config.index_dir))
    stored = build / "corpus.json"
    corpus = json.loads(stored.read_text(encoding="utf-8"))
    change(corpus)
    stored.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
    manifest_path = build / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["corpus.json"] = store._sha256_file(stored)
    manifest_path.write_text(json.dumps(manifest))


def _replace_everywhere(old: str, new: str) -> Callable[[dict], None]:
    def change(corpus: dict) -> None:
        for group in ("documents", "sentences", "chunks"):
            for unit in corpus[group]:
                unit["text"] = unit["text"].replace(old, new)

    return change


def test_stored_text_that_differs_from_the_file_is_rebuilt(small, embedder, town):
    _edit_stored_corpus(small, _replace_everywhere("1921", "1066"))
    assert "1066" in load_index(Path(small.index_dir)).documents["town.txt"].text
    index, reason = ensure_index(small, lambda: embedder)
    assert reason == "stored text of town.txt differs from the file"
    assert index.documents["town.txt"].text == town
    assert not any("1066" in s.text for s in index.sentences)


@pytest.mark.parametrize("group", ["sentences", "chunks"])
def test_shifted_offsets_make_the_index_unusable_and_rebuilt(small, embedder, group):
    def shift(corpus: dict) -> None:
        corpus[group][1]["start"] += 1
        corpus[group][1]["end"] += 1

    _edit_stored_corpus(small, shift)
    with pytest.raises(IndexUnusableError, match="not the text of 'town.txt'"):
        load_index(Path(small.index_dir))
    index, reason = ensure_index(small, lambda: embedder)
    assert reason is not None and reason.startswith("stored index unusable")
    text = index.documents["town.txt"].text
    assert all(text[u.start : u.end] == u.text for u in (*index.sentences, *index.chunks))


def test_passage_naming_a_missing_sentence_is_unusable(small):
    _edit_stored_corpus(small, lambda c: c["chunks"][0].__setitem__("sentence_ids", [0, 99]))
    with pytest.raises(IndexUnusableError, match="missing sentence"):
        load_index(Path(small.index_dir))


# --- builds take turns; leftovers of killed builds go at the next build --------------------


def test_second_build_waits_then_uses_the_build_that_finished(small, embedder, town):
    """A build started while another holds the lock says it waits, then reuses its result."""
    index_dir = Path(small.index_dir)
    Path(small.corpus[0]).write_text(town + "A new pier was built in 1930.\n", encoding="utf-8")
    told: list[str] = []
    results: list[tuple] = []
    with build_lock(index_dir):
        waiter = threading.Thread(
            target=lambda: results.append(ensure_index(small, lambda: embedder, told.append))
        )
        waiter.start()
        _wait_for(lambda: any("waiting for another build" in m for m in told), 60, "waiting")
        first = build_index(small, embedder, read_corpus(small.corpus))
    waiter.join(timeout=120)
    ((index, reason),) = results
    assert reason is None and index.path == first.path
    assert not any(m.startswith("building the index") for m in told)
    assert any("1930" in s.text for s in index.sentences)


def test_two_index_commands_at_once_both_succeed(small, tmp_path):
    """Two real ``rag index --force`` processes: neither deletes the other's build."""
    index_dir = Path(small.index_dir)
    env = {
        **os.environ,
        "VERBATIM_INDEX_DIR": str(index_dir),
        "VERBATIM_CORPUS": small.corpus[0],
        "VERBATIM_CHUNK_SENTENCES": "2",
    }
    logs = [tmp_path / f"run{n}.log" for n in range(2)]
    runs = []
    # Hold the lock until both have started and reached it, so they truly overlap.
    with build_lock(index_dir):
        for log in logs:
            with log.open("wb") as out:
                runs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "rag.cli", "index", "--force"],
                        cwd=PROJECT_ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        try:
            _wait_for(
                lambda: (
                    all("waiting for another build" in log.read_text() for log in logs)
                    or any(run.poll() is not None for run in runs)
                ),
                300,
                "both builds to wait",
            )
        except AssertionError:
            for run in runs:
                run.kill()
            raise
    codes = [run.wait(timeout=300) for run in runs]
    output = "\n".join(log.read_text() for log in logs)
    assert codes == [0, 0], output
    assert output.count("waiting for another build") >= 2
    index = load_index(index_dir)
    assert _builds(small) == [index.path.name] and list(index.documents) == ["town.txt"]


def test_leftovers_of_killed_builds_are_removed_by_the_next_build(small, embedder, town):
    index_dir = Path(small.index_dir)
    (index_dir / "build-xyz").mkdir()
    (index_dir / "build-xyz" / "vectors.faiss").write_bytes(b"half")
    (index_dir / f".{POINTER}.tmp").write_text("build-xyz")
    (index_dir / f".{POINTER}.k2j4_9x").write_text("build-")
    Path(small.corpus[0]).write_text(town + "A new pier was built in 1930.\n", encoding="utf-8")
    index, reason = ensure_index(small, lambda: embedder)
    assert reason is not None
    left = sorted(p.name for p in index_dir.iterdir())
    assert left == sorted([LOCK, POINTER, index.path.name])


def test_failed_build_removes_its_own_folder(small, embedder, monkeypatch):
    before = _builds(small)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.faiss, "write_index", broken)
    with pytest.raises(OSError, match="disk full"):
        build_index(small, embedder, read_corpus(small.corpus))
    assert _builds(small) == before


# --- duplicate marking at the scale of a 50 MB corpus ---------------------------------------


@pytest.mark.timeout(60)
def test_duplicate_marking_of_200k_sentences_finishes():
    """200k sentences, many repeated: pull quotes and exact repeats are found.

    Every fifth paragraph repeats the same boilerplate sentence (as a long scraped file does);
    all such paragraphs are equally long, so each copy repeats the first one. The old search
    gathered and sorted every copy for each copy (quadratic: it times out here).
    """
    sentences: list[Sentence] = []

    def add(paragraph: int, text: str) -> int:
        sentences.append(Sentence(len(sentences), "big.txt", 0, 0, paragraph, text))
        return len(sentences) - 1

    boilerplate = "All rights reserved by the harbour council and its partners."
    expected: dict[int, int] = {}
    first_boilerplate = -1
    paragraph = 0
    while len(sentences) < 200_000:
        paragraph += 1
        body = [
            add(paragraph, f"Ferry {paragraph:06d} carried {k} tonnes of grain to town {k * 7}.")
            for k in range(5)
        ]
        if paragraph % 5 == 0:
            copy = add(paragraph, boilerplate)
            if first_boilerplate < 0:
                first_boilerplate = copy
            else:
                expected[copy] = first_boilerplate
        if paragraph % 50 == 0:  # a pull quote of the body's second sentence, in its own line
            paragraph += 1
            quote = add(paragraph, f"carried 1 tonnes of grain to town 7 {paragraph - 1:06d}")
            expected[quote] = -1  # word order differs from the body: not a duplicate
            pull = add(paragraph, f"Ferry {paragraph - 1:06d} carried 1 tonnes of grain")
            expected[pull] = body[1]
    marked = mark_duplicates(sentences)
    assert len(marked) == len(sentences)
    for s in marked:
        assert s.duplicate_of == expected.get(s.id, -1), s
    assert sum(s.duplicate_of >= 0 for s in marked) > 6_000


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "stream, total, shown",
    [(_Terminal(), 10_000, True), (_Terminal(), 10, False), (io.StringIO(), 10_000, False)],
)
def test_progress_bar_only_on_a_terminal_for_large_jobs(stream, total, shown):
    with progress_bar(total, "embedding passages", "text", large=1_000, stream=stream) as bar:
        bar.update(total)
    assert ("embedding passages" in stream.getvalue()) == shown


def test_splitting_reports_progress_through_the_whole_document(article_text):
    done: list[int] = []
    doc = Document("a.txt", article_text, sha256_text(article_text))
    split = split_document(doc, on_paragraph=done.append)
    assert split == split_document(doc)
    assert len(done) > 10 and all(n >= 0 for n in done)
    assert len(article_text) - sum(done) < 200
