"""The ``rag`` command line: index, search, ask, eval, serve-api."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

from rag.config import Config

logger = logging.getLogger(__name__)


def _config(args: argparse.Namespace) -> Config:
    overrides: dict[str, Any] = {
        "generator": getattr(args, "generator", None),
        "writer": getattr(args, "writer", None),
        "top_k": getattr(args, "k", None),
        "index_dir": getattr(args, "index_dir", None),
    }
    if getattr(args, "corpus", None):
        overrides["corpus"] = tuple(args.corpus)
    return Config.from_env(**overrides)


# C0 controls but tab and newline, DEL and C1 controls: ESC starts a terminal escape sequence
# (an OSC one can retitle the window or write to the clipboard), CR and BS overwrite text.
# Then the bidirectional embeddings, overrides and isolates, which reorder what is shown.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f" r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def printable(text: str) -> str:
    """``text`` with every control character but tab and newline shown as ``\\xNN`` (ESC as
    the four characters ``\\x1b``), and every bidirectional control as ``\\uNNNN``, so corpus
    text can neither drive the terminal nor reorder the words it shows."""
    return _CONTROL.sub(lambda m: _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _say(text: str) -> None:
    """Print human-readable output, its control characters escaped."""
    print(printable(text))


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_index(args: argparse.Namespace) -> int:
    from index.build import build_index, load_matching
    from index.corpus import read_corpus
    from index.embed import load_embedder

    config = _config(args)
    documents = read_corpus(config.corpus)
    # The same checks as every start: manifest, stored files, offsets, and text against disk.
    stored, reason = (None, "--force") if args.force else load_matching(config, documents)
    if stored is not None:
        _say(f"index is up to date: {stored.manifest['counts']} in {stored.path}")
        return 0
    print(printable(f"building index ({reason})..."), file=sys.stderr)
    stored = build_index(config, load_embedder(), documents, progress=_progress)
    _say(f"built {stored.manifest['counts']} in {stored.path}")
    return 0


def _progress(step: str) -> None:
    print(printable(f"{step}..."), file=sys.stderr)


def _history(path: str | None) -> list[dict[str, str]]:
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"--history {path}: cannot read a JSON list of messages ({exc})") from exc
    if not isinstance(data, list) or not all(isinstance(m, dict) and "role" in m for m in data):
        raise ValueError(f'--history {path}: expected [{{"role": ..., "content": ...}}, ...]')
    return data


def cmd_search(args: argparse.Namespace) -> int:
    import rag

    bot = rag.load(_config(args).replace(generator="none"))
    result = bot.search(args.query, k=args.k)
    if args.json:
        _print_json(
            {
                "query": result.query,
                "passages": [
                    {
                        "rank": p.rank,
                        "score": p.score,
                        "dense": p.dense_score,
                        "bm25": p.bm25_score,
                        "source": p.chunk.source,
                        "start": p.chunk.start,
                        "end": p.chunk.end,
                        "paragraph": p.chunk.paragraph,
                        "text": p.chunk.text,
                    }
                    for p in result.passages
                ],
                "evidence": [
                    {
                        "rank": e.rank,
                        "score": e.score,
                        "similarity": e.similarity,
                        "source": e.sentence.source,
                        "start": e.sentence.start,
                        "end": e.sentence.end,
                        "paragraph": e.sentence.paragraph,
                        "text": e.sentence.text,
                    }
                    for e in result.evidence
                ],
                "abstain": result.verdict.abstain,
                "reason": result.verdict.reason,
                "seconds": result.seconds,
            }
        )
        return 0
    _say(f"Passages for: {result.question}")
    for p in result.passages:
        c = p.chunk
        _say(
            f" {p.rank}. [{p.score:.4f} dense={p.dense_score:.3f} bm25={p.bm25_score:.2f}] "
            f"{c.source}:{c.start}-{c.end} (paragraph {c.paragraph})\n    {c.text}"
        )
    _say("Evidence sentences:")
    for e in result.evidence:
        s = e.sentence
        _say(
            f" {e.rank}. [{e.score:.3f} cos={e.similarity:.3f}] {s.source}:{s.start}-{s.end} "
            f"(paragraph {s.paragraph})\n    {s.text}"
        )
    verdict = result.verdict
    _say(
        f"Answerable: {not verdict.abstain} ({verdict.reason}; similarity "
        f"{verdict.similarity:.3f}) "
        f"in {result.seconds * 1000:.1f} ms"
    )
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    import rag

    history = _history(args.history)
    bot = rag.load(_config(args))
    answer = bot.ask(args.question, history)
    if args.json:
        _print_json(answer.to_dict())
        return 0
    _say(answer.answer)
    for c in answer.citations or answer.related:
        label = "related" if answer.abstained else f"[{c.n}]"
        _say(
            f"  {label} “{c.quote}” ({c.source}, paragraph {c.paragraph}, chars {c.start}-{c.end})"
        )
    _say(f"  ({answer.model}, {answer.mode}, {answer.timings.get('total_s', 0):.2f}s)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.eval.run import run_eval

    return run_eval(args, _config(args))


def cmd_eval_compare(args: argparse.Namespace) -> int:
    from rag.eval.compare import compare_runs

    text, path = compare_runs(args.run_a, args.run_b, args.out)
    _say(text)
    print(f"comparison: {path}", file=sys.stderr)
    return 0


def cmd_serve_api(args: argparse.Namespace) -> int:
    import os

    import rag
    from ui.openai_api import API_KEY_ENV, api_key_for, serve

    config = _config(args)
    key = os.environ.get(API_KEY_ENV) or None
    # Off loopback without a key is refused before anything loads.
    api_key_for(args.host, key)
    bot = rag.load(config)
    serve(bot, args.host, args.port, key, config.max_question_chars)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from ui.app import main as chat_main

    argv = [
        *(["--host", args.host] if args.host else []),
        *(["--port", str(args.port)] if args.port else []),
    ]
    chat_main(argv)
    return 0


def _index_dir_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index-dir", metavar="DIR", help="where the index lives (default: VERBATIM_INDEX_DIR)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Verbatim: quote-backed answers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build the index (only if stale unless --force)")
    p.add_argument("corpus", nargs="*", help=".txt/.md files or folders (default: the article)")
    p.add_argument("--force", action="store_true", help="rebuild even if up to date")
    _index_dir_flag(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="show ranked passages and evidence sentences")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=None, help="passages to retrieve")
    p.add_argument("--json", action="store_true")
    p.add_argument("--corpus", nargs="+")
    _index_dir_flag(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with verbatim quotes")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.add_argument("--history", help="JSON file with earlier [{role, content}] messages")
    p.add_argument(
        "--generator",
        help="'smollm2', 'none', a model folder, a .gguf file or openai:<base URL>#<model>",
    )
    p.add_argument(
        "--writer", choices=("quote", "model"), help="quote (default) or model-written answers"
    )
    p.add_argument("-k", type=int, default=None)
    p.add_argument("--corpus", nargs="+")
    _index_dir_flag(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser(
        "serve-api",
        help="serve the OpenAI-compatible API (/v1/chat/completions, docs/openai-api.md)",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--generator", help="as for ask")
    p.add_argument(
        "--writer", choices=("quote", "model"), help="quote (default) or model-written answers"
    )
    p.add_argument("--corpus", nargs="+")
    _index_dir_flag(p)
    p.set_defaults(func=cmd_serve_api)

    p = sub.add_parser("chat", help="serve the web chat (what `make chat` runs)")
    p.add_argument("--host", help="interface (default VERBATIM_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default VERBATIM_PORT or 7860)")
    p.set_defaults(func=cmd_chat)

    from rag.eval.options import add_compare_arguments, add_eval_arguments

    p = sub.add_parser("eval", help="run a Q&A test set and write a report")
    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("eval-compare", help="compare two rag eval report folders")
    add_compare_arguments(p)
    p.set_defaults(func=cmd_eval_compare)
    return parser


def _describe(exc: BaseException) -> str:
    """One line for the user: an OS error as ``path: reason``, others by their message."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        paths = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        text = f"{paths}: {exc.strerror}"
    elif isinstance(exc, (ValueError, RuntimeError, OSError)):
        text = str(exc) or type(exc).__name__
    else:
        text = f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)"
    return printable(" ".join(text.split()))


def main(argv: list[str] | None = None) -> int:
    """Run the command; every failure is one ``rag: error:`` line on stderr and exit 2
    (``rag eval`` returns 1 when a ``--fail-under`` gate fails)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except Exception as exc:  # the index's and the OS's errors included: no traceback
        if args.verbose:
            logger.exception("%s failed", args.command)
        print(f"rag: error: {_describe(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
