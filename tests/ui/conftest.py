"""Chat servers for the UI tests: ``build_app(bot)`` on free local ports; headless Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_served(url: str, timeout_s: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Poll ``url`` until it answers 200 (True), ``timeout_s`` passes or ``alive()`` is False."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def wait_for_page() -> Callable[..., bool]:
    """:func:`page_served`, for test modules (which cannot import this conftest)."""
    return page_served


@pytest.fixture
def port() -> int:
    """A free local port."""
    return free_port()


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[Any], str]]:
    """Start ``build_app(bot)`` on a free port and return its URL; all are closed at the end."""
    from ui.app import build_app, launch

    apps = []

    def start(bot: Any) -> str:
        app = build_app(bot)
        apps.append(app)
        return launch(app, "127.0.0.1", free_port(), quiet=True)

    yield start
    for app in apps:
        app.close()


@pytest.fixture(scope="session")
def app_url(serve, bot) -> str:
    """The chat around the real models."""
    return serve(bot)


@pytest.fixture
def gated_chat(bot, monkeypatch) -> Iterator[SimpleNamespace]:
    """``ui.app.main()`` serving the real pipeline, whose load waits for ``release.set()``.

    Yields the page ``url``, the ``release`` event and the ``runner`` thread running main().
    """
    import rag
    import ui.app as ui_app

    release = threading.Event()

    def load(config, progress):
        progress("loading the embedding model")
        release.wait(300)
        return bot

    apps: list[Any] = []
    real_launch = ui_app.launch

    def launch(app, host, port, **kw):
        apps.append(app)
        return real_launch(app, host, port, **kw)

    monkeypatch.setattr(rag, "load", load)
    monkeypatch.setattr(ui_app, "launch", launch)
    monkeypatch.setattr(ui_app.gr.Blocks, "block_thread", lambda self: None)
    port = free_port()
    runner = threading.Thread(target=ui_app.main, args=(["--port", str(port)],), daemon=True)
    runner.start()
    url = f"http://127.0.0.1:{port}/"
    page_served(url, 60)
    yield SimpleNamespace(url=url, release=release, runner=runner)
    release.set()
    runner.join(30)
    for app in apps:
        app.close()


def pytest_collection_modifyitems(config, items) -> None:
    """Gradio's queue monitor uses pandas APIs that warn under pandas 3; not ours to fix."""
    here = str(config.rootpath / "tests" / "ui")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, one per test module. Skipped without it on a developer's
    machine; under CI (``CI=true``) a missing browser fails instead."""
    if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
