"""Soak: does the chat server's memory settle under normal and oversized requests? (#16)

Run: ``.venv/bin/python benchmarks/bench_soak.py [--requests 1000] [--normal-every 5]``.
Starts ``python -m ui.app`` on a free loopback port in its own process, warms it by asking each
question once (the pipeline's caches are bounded and fill with what is asked: the warm level is
the one with them filled) and with oversized posts, reads its RSS (warm), then sends
``--requests`` requests: every ``--normal-every``-th a dev question to ``/ask`` through
gradio_client, the others raw oversized POSTs to Gradio's routes (declared 20 MB and 100 MB
bodies, and chunked bodies of 2 MB with no Content-Length) and tiny uploads. Prints the server's
RSS warm and after, their ratio, the status codes seen and requests/s. Target: RSS after within
10% of warm. Asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "data" / "qa" / "dev.jsonl"
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Current resident set size of process ``pid`` in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def questions() -> list[str]:
    """The dev questions without history."""
    items = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    return [item["question"] for item in items if not item.get("history")]


def start_server(port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """``python -m ui.app`` on ``port``; returns once it prints that it is ready."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    server = subprocess.Popen(
        [sys.executable, "-m", "ui.app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line.rstrip())
            if line.startswith("Ready"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    while not ready.wait(1):
        if server.poll() is not None:
            raise SystemExit("the server stopped:\n" + "\n".join(lines[-20:]))
    return server, lines


def read_status(sock: socket.socket) -> int:
    """The status code of the response on ``sock`` (0 if the connection closed first)."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def raw_post(port: int, path: str, headers: dict[str, str], body: Iterator[bytes]) -> int:
    """POST exactly these headers and body pieces; stop sending once the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        try:
            for piece in body:
                sock.sendall(piece)
        except OSError:
            pass  # refused before the body was read: the point
        return read_status(sock)


BLOCK = b"x" * (64 * 1024)


def declared(size: int) -> Iterator[bytes]:
    """The first megabyte of a body declared as ``size`` bytes (the rest is never needed)."""
    sent = 0
    while sent < min(size, MB):
        yield BLOCK
        sent += len(BLOCK)


def chunked(size: int) -> Iterator[bytes]:
    """A JSON-ish body of ``size`` bytes in HTTP chunks, with no length declared."""
    sent = 0
    while sent < size:
        yield b"%x\r\n%s\r\n" % (len(BLOCK), BLOCK)
        sent += len(BLOCK)
    yield b"0\r\n\r\n"


def oversized(port: int, i: int) -> int:
    """The ``i``-th kind of unwanted request; returns its status code."""
    json_type = {"Content-Type": "application/json"}
    kind = i % 6
    if kind == 0:
        size = 100 * MB
        headers = {**json_type, "Content-Length": str(size)}
        return raw_post(port, "/gradio_api/queue/join", headers, declared(size))
    if kind in (1, 2):
        path = "/gradio_api/call/ask" if kind == 1 else "/gradio_api/queue/join"
        headers = {**json_type, "Content-Length": str(20 * MB)}
        return raw_post(port, path, headers, declared(20 * MB))
    if kind == 3:
        headers = {**json_type, "Transfer-Encoding": "chunked"}
        return raw_post(port, "/gradio_api/queue/join", headers, chunked(2 * MB))
    if kind == 4:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        headers = {**form, "Content-Length": str(20 * MB)}
        return raw_post(port, "/login", headers, declared(20 * MB))
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n\r\n--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(len(body))}
    return raw_post(port, "/gradio_api/upload", headers, iter([body]))


def soak(port: int, count: int, normal_every: int, asks: list[str]) -> collections.Counter[str]:
    """Send ``count`` requests; every ``normal_every``-th a question. Returns outcome counts."""
    from gradio_client import Client

    url = f"http://127.0.0.1:{port}/"
    outcomes: collections.Counter[str] = collections.Counter()
    client = None
    for i in range(count):
        if i % normal_every == 0:
            if client is None or i % (normal_every * 25) == 0:
                client = Client(url, verbose=False)  # a new session now and then
            try:
                result = client.predict(asks[i % len(asks)], api_name="/ask")
                outcomes["ask error" if "error" in result else "ask answered"] += 1
            except Exception as exc:
                outcomes[f"ask failed: {type(exc).__name__}"] += 1
        else:
            outcomes[f"oversized -> {oversized(port, i)}"] += 1
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests in the soak")
    parser.add_argument("--normal-every", type=int, default=5, help="every n-th is a question")
    parser.add_argument(
        "--warm", type=int, default=0, help="requests before the warm RSS (default: 3 a question)"
    )
    parser.add_argument("--settle-s", type=float, default=5.0, help="pause before the last RSS")
    args = parser.parse_args()

    port = free_port()
    started = time.perf_counter()
    server, lines = start_server(port)
    print(f"server ready in {time.perf_counter() - started:.1f} s (pid {server.pid})")
    try:
        asks = questions()
        fresh = rss_mb(server.pid)
        # Every third request a question: each question once, unless --warm says otherwise.
        soak(port, args.warm or 3 * len(asks), 3, asks)
        time.sleep(args.settle_s)
        warm = rss_mb(server.pid)
        started = time.perf_counter()
        outcomes = soak(port, args.requests, args.normal_every, asks)
        wall = time.perf_counter() - started
        time.sleep(args.settle_s)
        after = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    print(f"requests                     {args.requests} in {wall:.1f} s")
    print(f"requests/s                   {args.requests / wall:.2f}")
    for outcome, n in sorted(outcomes.items()):
        print(f"  {outcome:<27}{n}")
    print(f"RSS fresh / warm / after     {fresh:.0f} MB / {warm:.0f} MB / {after:.0f} MB")
    verdict = "within" if after <= warm * 1.10 else "NOT within"
    print(f"after / warm                 {after / warm:.3f} ({verdict} 10% of warm)")


if __name__ == "__main__":
    main()
