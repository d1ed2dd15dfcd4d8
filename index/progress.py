"""Progress bars for long indexing steps, shown only to a person watching a terminal."""

from __future__ import annotations

import sys
from typing import IO

from tqdm import tqdm


def progress_bar(
    total: int, desc: str, unit: str, large: int, stream: IO[str] | None = None
) -> tqdm:
    """A tqdm bar on ``stream`` (stderr) for a job of ``total`` units.

    Disabled (a silent no-op) unless the stream is a terminal and ``total >= large``: a small
    job ends before a bar would help, and in logs and tests a bar is only noise.
    """
    out = sys.stderr if stream is None else stream
    watched = hasattr(out, "isatty") and out.isatty()
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        file=out,
        leave=False,
        dynamic_ncols=True,
        disable=not (watched and total >= large),
    )
