"""Index faults: a build killed midway, leftovers of one, and an index from another corpus,
model or format. (Truncated files, garbage manifests and changed corpora: test_build.py.)"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.build import ensure_index
from index.embed import MODEL_NAME
from index.store import POINTER, current_build, load_index
from rag.config import PROJECT_ROOT, Config

# Loads MiniLM, says so, then rebuilds the index for VERBATIM_CORPUS in VERBATIM_INDEX_DIR.
# The build stalls (a slow machine, a slow disk) right after its first embedding ("embed") or
# right after writing its FAISS file ("write"), leaves a marker, and is killed there.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from index import build, store
    from index.build import ensure_index
    from index.embed import load_embedder
    from rag.config import Config

    phase, markers = sys.argv[1], Path(sys.argv[2])

    def stalled(real):
        def run(*args, **kwargs):
            out = real(*args, **kwargs)
            (markers / "stalled").touch()
            time.sleep(600)
            return out
        return run

    if phase == "write":
        store.faiss.write_index = stalled(store.faiss.write_index)
    else:
        build.embed = stalled(build.embed)
    embedder = load_embedder()
    (markers / "ready").touch()
    ensure_index(Config.from_env(), lambda: embedder)
    (markers / "done").touch()
    """
)


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _larger_corpus(path: Path, paragraphs: int = 60) -> Path:
    lines = [
        f"Ferry {n} left the harbour at dawn with grain for the northern towns. "
        f"Its captain, number {n}, logged the weather and the cargo. "
        f"The council paid {n * 10} crowns for the crossing."
        for n in range(paragraphs)
    ]
    path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return path


def _kill_build(small: Config, tmp_path: Path, phase: str) -> Path:
    """Start a rebuild for a larger corpus in a child process and ``kill -9`` it midway.

    Returns the larger corpus file.
    """
    big = _larger_corpus(tmp_path / "ferries.txt")
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {
        **os.environ,
        "VERBATIM_INDEX_DIR": small.index_dir,
        "VERBATIM_CORPUS": str(big),
        "VERBATIM_CHUNK_SENTENCES": "2",
    }
    log = tmp_path / "child.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, phase, str(markers)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        stalled = markers / "stalled"
        _wait_for(lambda: stalled.exists() or child.poll() is not None, 300, "the stall")
        assert child.poll() is None, f"the build ended early:\n{log.read_text()[-2000:]}"
        assert not (markers / "done").exists()
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return big


@pytest.mark.parametrize("phase", ["embed", "write"])
def test_killed_build_leaves_the_old_index_live(small, tmp_path, phase):
    before = current_build(Path(small.index_dir))
    _kill_build(small, tmp_path, phase)
    assert current_build(Path(small.index_dir)) == before
    index = load_index(Path(small.index_dir))
    assert list(index.documents) == ["town.txt"]
    assert index.vectors.ntotal == len(index.chunks)


def test_build_killed_while_writing_leaves_only_its_own_folder(small, tmp_path):
    before = current_build(Path(small.index_dir))
    _kill_build(small, tmp_path, "write")
    builds = sorted(p for p in Path(small.index_dir).glob("build-*"))
    assert len(builds) == 2 and before in builds
    partial = next(p for p in builds if p != before)
    assert (partial / "vectors.faiss").exists() and not (partial / "manifest.json").exists()


def test_leftovers_of_a_killed_build_do_not_break_the_next_runs(small, tmp_path, embedder):
    before = current_build(Path(small.index_dir))
    big = _kill_build(small, tmp_path, "write")
    index, reason = ensure_index(small, lambda: embedder)
    assert reason is None and index.path == before
    bigger = small.replace(corpus=(str(big),))
    index, reason = ensure_index(bigger, lambda: embedder)
    assert reason is not None and list(index.documents) == ["ferries.txt"]
    assert [p.name for p in Path(small.index_dir).glob("build-*")] == [index.path.name]


def test_stray_pointer_temp_file_is_ignored(small, embedder):
    (Path(small.index_dir) / f".{POINTER}.abc123").write_text("build-gone")
    _, reason = ensure_index(small, lambda: embedder)
    assert reason is None


def test_pointer_to_a_missing_build_means_rebuild(small, embedder):
    (Path(small.index_dir) / POINTER).write_text("build-gone")
    index, reason = ensure_index(small, lambda: embedder)
    assert reason == "no index built yet"
    assert list(index.documents) == ["town.txt"]


# --- an index from another corpus, model or format ----------------------------------------


def _edit_manifest(config: Config, change: Callable[[dict], None]) -> None:
    path = current_build(Path(config.index_dir)) / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "field, stored",
    [
        ("model", "all-mpnet-base-v2"),
        ("model_package", "0.0.1"),
        ("dimension", 768),
        ("index_type", "hnsw"),
        ("sources", ["other.txt"]),
        ("chunk_overlap", 0),
    ],
)
def test_index_for_another_model_or_setting_is_rebuilt(small, embedder, field, stored):
    _edit_manifest(small, lambda m: m["key"].__setitem__(field, stored))
    index, reason = ensure_index(small, lambda: embedder)
    assert reason is not None and reason.startswith(f"{field} changed")
    assert index.manifest["key"]["model"] == MODEL_NAME
    assert index.manifest["key"][field] != stored


def test_index_copied_from_another_corpus_is_rebuilt(small, tmp_path, embedder):
    other = tmp_path / "other"
    other.mkdir()
    notes = other / "notes.txt"
    notes.write_text("The library closes at noon on Sundays. Its roof leaks.\n")
    config = small.replace(corpus=(str(notes),), index_dir=str(other / "built"))
    shutil.copytree(small.index_dir, config.index_dir)
    index, reason = ensure_index(config, lambda: embedder)
    assert reason is not None and reason.startswith("corpus_sha256 changed")
    assert list(index.documents) == ["notes.txt"]


def test_index_of_an_old_format_is_rebuilt(small, embedder):
    _edit_manifest(small, lambda m: m.__setitem__("format_version", 0))
    index, reason = ensure_index(small, lambda: embedder)
    assert reason is not None and "old format" in reason
    assert index.manifest["format_version"] == 1


def test_manifest_without_checksums_is_not_trusted(small, embedder):
    """Dropping the checksum list must not turn verification off."""
    _edit_manifest(small, lambda m: m.__setitem__("files", {}))
    stored = current_build(Path(small.index_dir)) / "corpus.json"
    corpus = json.loads(stored.read_text(encoding="utf-8"))
    corpus["sentences"][0]["text"] = "The harbour opened in 1066."
    stored.write_text(json.dumps(corpus), encoding="utf-8")
    index, reason = ensure_index(small, lambda: embedder)
    assert reason is not None and "unusable" in reason
    text = index.documents["town.txt"].text
    assert all(text[s.start : s.end] == s.text for s in index.sentences)
