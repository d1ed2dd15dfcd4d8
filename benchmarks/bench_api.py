"""Latency of the OpenAI-compatible ``/v1/chat/completions`` next to the chat's ``/ask``, for the
same questions and the same loaded pipeline (#17).

Run: ``.venv/bin/python benchmarks/bench_api.py [--questions 30]``. Both servers run in this
process on loopback ports; each question is asked once through ``gradio_client`` and once
through the official ``openai`` client (without and with streaming), in turn, after one warm-up
round. Prints p50 and p95 per route and their ratio to ``/ask``. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time

from rag.config import PROJECT_ROOT, Config
from rag.eval.metrics import percentile

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def questions(n: int) -> list[str]:
    """The first ``n`` dev questions without history."""
    items = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    return [item["question"] for item in items if not item.get("history")][:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=30)
    args = parser.parse_args()

    import openai
    import uvicorn
    from gradio_client import Client

    import rag
    from ui.app import build_app, launch
    from ui.guard import HISTORY_TURNS, body_limit
    from ui.openai_api import build_api

    config = Config.from_env()
    bot = rag.load(config)
    chat_url = launch(build_app(bot), "127.0.0.1", free_port(), quiet=True)
    port = free_port()
    api = build_api(bot, None, body_limit(config.max_question_chars), HISTORY_TURNS)
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    chat = Client(chat_url, verbose=False)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="-", max_retries=0)

    def ask(question: str) -> None:
        chat.predict(question, api_name="/ask")

    def complete(question: str) -> None:
        client.chat.completions.create(
            model="verbatim", messages=[{"role": "user", "content": question}]
        )

    def stream(question: str) -> None:
        for _ in client.chat.completions.create(
            model="verbatim", messages=[{"role": "user", "content": question}], stream=True
        ):
            pass

    routes = {"/ask (gradio_client)": ask, "/v1/chat/completions": complete}
    routes["/v1/chat/completions stream"] = stream
    asked = questions(args.questions)
    for question in asked[:5]:
        for call in routes.values():
            call(question)
    seconds: dict[str, list[float]] = {name: [] for name in routes}
    for question in asked:
        for name, call in routes.items():
            started = time.perf_counter()
            call(question)
            seconds[name].append(time.perf_counter() - started)
    server.should_exit = True
    base = percentile(seconds["/ask (gradio_client)"], 50) or 1.0
    print(f"{len(asked)} dev questions, model {bot.model_name}, writer {config.writer}")
    print(f"{'route':32}{'p50 s':>8}{'p95 s':>8}{'p50 / ask':>11}")
    for name, values in seconds.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        print(f"{name:32}{p50:8.3f}{p95:8.3f}{p50 / base:11.2f}")


if __name__ == "__main__":
    main()
