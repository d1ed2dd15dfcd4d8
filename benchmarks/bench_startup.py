"""Start-up of the web chat: seconds from ``python -m ui.app`` to the page, and to an answer.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--fresh]``. Prints figures; asserts none.
The chat serves its page first and loads the models and the index behind it (ui/loader.py),
so two figures matter: when the page is served (the reader sees the article and the loading
line, and can type), and when the first question, sent as soon as the page is up, is
answered. ``--fresh`` points the index and the converted-model cache at empty folders, to time
a first-ever start (index build and GGUF conversion). The import time of the heavy libraries
is printed too, since it is the floor of any start.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from rag.config import PROJECT_ROOT, Config

QUESTION = "How many overdose deaths were there in the U.S. last year?"
IMPORTS = ("torch", "sentence_transformers", "transformers", "gradio", "faiss")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def import_seconds(module: str) -> float:
    """Seconds a fresh interpreter takes to import ``module``, with everything it imports."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def time_start(env: dict[str, str], root: str, timeout_s: float = 600.0) -> dict[str, float]:
    """Seconds from the start to the page being served (``page``), to the first answer of
    ``/ask`` sent as soon as the page is up (``answer``), and to the language model being
    loaded too (``model``: the chat prints "Ready:"; None for a checkout that does not)."""
    from gradio_client import Client

    port = free_port()
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui.app", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            figures: dict[str, float] = {}
            while "page" not in figures and time.perf_counter() - started < timeout_s:
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            figures["page"] = time.perf_counter() - started
                except OSError:
                    time.sleep(0.1)
            if "page" not in figures:
                raise TimeoutError("the chat did not serve a page in time")
            answer = Client(url, verbose=False).predict(QUESTION, api_name="/ask")
            if not answer.get("citations"):
                raise RuntimeError(f"the first answer came back without quotes: {answer}")
            figures["answer"] = time.perf_counter() - started
            while time.perf_counter() - started < timeout_s:
                if "Ready:" in Path(log.name).read_text(errors="replace"):
                    figures["model"] = time.perf_counter() - started
                    break
                if process.poll() is not None:
                    break
                time.sleep(0.2)
            return figures
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="empty index and model cache")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--root",
        default=str(PROJECT_ROOT),
        help="checkout whose ui.app to start, e.g. a git worktree of an older commit to compare",
    )
    args = parser.parse_args()

    env = dict(os.environ)
    # Another checkout (--root) starts on this one's index and converted model, not a fresh one.
    config = Config.from_env()
    env.setdefault("VERBATIM_INDEX_DIR", config.index_dir)
    env.setdefault("VERBATIM_MODEL_CACHE_DIR", config.model_cache_dir)
    with tempfile.TemporaryDirectory() as tmp:
        label = "with index and model cache"
        if args.fresh:
            label = "first start: index build and model conversion"
        for run in range(args.runs):
            if args.fresh:
                env["VERBATIM_INDEX_DIR"] = f"{tmp}/index-{run}"
                env["VERBATIM_MODEL_CACHE_DIR"] = f"{tmp}/models-{run}"
            figures = time_start(env, args.root)
            target = 30 if args.fresh else 10
            page_s, answer_s = figures["page"], figures["answer"]
            model = f", model ready {figures['model']:5.1f} s" if "model" in figures else ""
            print(
                f"{label}, run {run + 1}: page served {page_s:5.1f} s "
                f"(target < {target} s: {page_s / target:.2f}x), "
                f"first answer {answer_s:5.1f} s ({answer_s / target:.2f}x){model}"
            )
    for module in IMPORTS:
        seconds = import_seconds(module)
        print(f"import {module:<22} {seconds:5.2f} s in a fresh interpreter, with its imports")


if __name__ == "__main__":
    main()
