"""Load: N concurrent ``gradio_client`` users asking M dev questions each against ``/ask``.

Run: ``.venv/bin/python benchmarks/bench_load.py [--users 16] [--questions 10]``.
Launches the chat around the real pipeline on a free loopback port, answers every planned
question once sequentially (the reference), then lets the users loose: bounded in count
(users x questions) and in time (``--time-limit``). Prints requests answered and errors, p50/p95
latency, throughput, whether every answer equals the sequential one (answer text, abstention and
citation offsets) and peak RSS. Asserts nothing; tests/ui/test_load.py is the small checked run.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import PROJECT_ROOT, Config  # noqa: E402  (after the path fix above)
from rag.eval.metrics import percentile

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"

Key = tuple[str, bool, tuple[tuple[str, int, int], ...]]


@dataclass(frozen=True)
class Ask:
    """One planned request: a dev question and its history."""

    question: str
    history: tuple[tuple[tuple[str, str], ...], ...] = ()

    def history_list(self) -> list[dict[str, str]]:
        return [dict(message) for message in self.history]


@dataclass
class LoadResult:
    """What the users got back."""

    planned: int
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    keys: list[tuple[Ask, Key]] = field(default_factory=list)
    wall_s: float = 0.0


def load_asks(path: Path = DEV) -> list[Ask]:
    """The dev questions, with their histories."""
    asks = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            history = tuple(tuple(sorted(m.items())) for m in item.get("history") or [])
            asks.append(Ask(item["question"], history))
    return asks


def plan(asks: Sequence[Ask], users: int, per_user: int) -> list[list[Ask]]:
    """Each user's questions: consecutive dev questions, each user starting further on."""
    return [[asks[(u * per_user + j) % len(asks)] for j in range(per_user)] for u in range(users)]


def answer_key(result: dict[str, Any]) -> Key:
    """What must not change under load: the answer, abstention and citation offsets."""
    cited = tuple((c["source"], c["start"], c["end"]) for c in result.get("citations", ()))
    return result.get("answer", ""), bool(result.get("abstained")), cited


def sequential_keys(bot: Any, asks: Sequence[Ask]) -> dict[Ask, Key]:
    """The reference: each distinct question answered once, one after another."""
    return {a: answer_key(bot.ask(a.question, a.history_list()).to_dict()) for a in set(asks)}


def run_users(url: str, users: Sequence[Sequence[Ask]], time_limit_s: float) -> LoadResult:
    """Every user asks its questions in turn on its own client, all users at once.

    A request not answered before the overall deadline counts as an error.
    """
    from gradio_client import Client

    result = LoadResult(planned=sum(len(u) for u in users))
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit_s

    def user(asks: Sequence[Ask]) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:
            with lock:
                result.errors.extend(f"client: {exc!r}" for _ in asks)
            return
        for ask in asks:
            left = deadline - time.monotonic()
            started = time.perf_counter()
            try:
                if left <= 0:
                    raise TimeoutError("overall time limit reached")
                job = client.submit(ask.question, ask.history_list(), api_name="/ask")
                answer = job.result(timeout=left)
            except Exception as exc:
                with lock:
                    result.errors.append(f"{ask.question[:60]!r}: {exc!r}")
                continue
            seconds = time.perf_counter() - started
            with lock:
                if "error" in answer:
                    result.errors.append(f"{ask.question[:60]!r}: {answer['error']}")
                else:
                    result.answered += 1
                    result.latencies.append(seconds)
                    result.keys.append((ask, answer_key(answer)))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(users), thread_name_prefix="user") as pool:
        for future in [pool.submit(user, asks) for asks in users]:
            future.result()
    result.wall_s = time.perf_counter() - started
    return result


def differing(result: LoadResult, reference: dict[Ask, Key]) -> list[Ask]:
    """Answers that differ from the sequential reference."""
    return [ask for ask, key in result.keys if reference[ask] != key]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16, help="concurrent clients")
    parser.add_argument("--questions", type=int, default=10, help="questions per user")
    parser.add_argument("--time-limit", type=float, default=1800, help="overall seconds")
    parser.add_argument("--generator", default=None, help="as in rag ask (default: config)")
    args = parser.parse_args()

    import rag
    from ui.app import build_app, launch

    bot = rag.load(Config.from_env(generator=args.generator))
    users = plan(load_asks(), args.users, args.questions)
    distinct = {a for u in users for a in u}
    started = time.perf_counter()
    reference = sequential_keys(bot, list(distinct))
    sequential_s = time.perf_counter() - started
    rss_before = peak_rss_mb()

    app = build_app(bot)
    url = launch(app, "127.0.0.1", _free_port(), quiet=True)
    try:
        result = run_users(url, users, args.time_limit)
    finally:
        app.close()
    changed = differing(result, reference)
    p50 = percentile(result.latencies, 50) or 0.0
    p95 = percentile(result.latencies, 95) or 0.0
    print(f"model                        {bot.model_name}")
    print(f"users x questions            {args.users} x {args.questions} = {result.planned}")
    print(
        f"sequential reference         {len(distinct)} distinct questions in {sequential_s:.1f} s "
        f"({sequential_s / max(len(distinct), 1):.2f} s each)"
    )
    print(f"requests answered            {result.answered} / {result.planned}")
    print(f"errors                       {len(result.errors)}")
    for error in result.errors[:5]:
        print(f"  {error}")
    print(f"latency p50 / p95            {p50:.2f} s / {p95:.2f} s (queue wait included)")
    print(f"wall time                    {result.wall_s:.1f} s")
    print(f"throughput                   {result.answered / max(result.wall_s, 1e-9):.2f} req/s")
    same = "yes" if not changed and result.answered == result.planned else "no"
    print(f"identical to sequential      {same} ({len(changed)} differing)")
    for ask in changed[:5]:
        print(f"  differs: {ask.question[:70]!r}")
    print(f"peak RSS before / after load {rss_before:.0f} MB / {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
