"""The conversation as Markdown, for the chat's Export button."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ui.render import answer_from_dict, plain_text

FILE_NAME = "verbatim-chat.md"
# An exported chat is kept this long (a day), so a long-running chat's folder does not grow
# without end; every finished answer writes the file anew, so a live chat's stays fresh.
KEEP_S = 24 * 3600


def _quote_lines(citation: Any, label: str) -> list[str]:
    """One quote as a Markdown block quote, then where it stands."""
    where = f"{citation.source}, paragraph {citation.paragraph}, characters {citation.start}–"
    return [f"> {label} {citation.quote}", ">", f"> — {where}{citation.end}", ""]


def turn_markdown(number: int, turn: dict[str, Any]) -> str:
    """One question and what the chat answered, with each quote, its source and offsets."""
    lines = [f"## {number}. {turn['question'].strip()}", ""]
    if turn.get("answer"):
        a = answer_from_dict(turn["answer"])
        if turn.get("stopped") or not a.complete:
            lines += ["*Stopped before the answer was written.*", ""]
        else:
            lines += [plain_text(a).split("\n\n", 1)[0], ""]
        quotes, title = (a.related, "Related passages") if a.abstained else (a.citations, "Sources")
        if quotes:
            lines += [f"**{title}**", ""]
            for c in quotes:
                lines += _quote_lines(c, f"[{c.n}]")
    else:
        lines += [f"*{turn.get('error') or 'No answer.'}*", ""]
    return "\n".join(lines)


def conversation_markdown(turns: Sequence[dict[str, Any]]) -> str:
    """The whole chat: every question, its answer, and its quotes with source and offsets."""
    parts = ["# Verbatim chat", ""]
    parts += [turn_markdown(n, t) for n, t in enumerate(turns, 1) if not t.get("pending")]
    return "\n".join(parts).rstrip() + "\n"


def prune(folder: Path, keep_s: float = KEEP_S) -> None:
    """Remove the exports under ``folder`` last written more than ``keep_s`` seconds ago."""
    oldest = time.time() - keep_s
    for path in folder.glob(f"*/{FILE_NAME}"):
        try:
            if path.stat().st_mtime < oldest:
                shutil.rmtree(path.parent, ignore_errors=True)
        except OSError:
            continue


def write_export(turns: Sequence[dict[str, Any]], folder: Path) -> Path | None:
    """Write the chat to ``folder/<digest>/verbatim-chat.md`` (same chat, same file), after
    removing exports older than :data:`KEEP_S`; None for an empty chat."""
    if not any(not t.get("pending") for t in turns):
        return None
    prune(folder)
    text = conversation_markdown(turns)
    path = folder / hashlib.sha256(text.encode()).hexdigest()[:20] / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
