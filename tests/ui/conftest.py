"""Chat servers for the UI tests: ``build_app(bot)`` on free local ports."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def pytest_collection_modifyitems(config, items) -> None:
    """Gradio's queue monitor uses pandas APIs that warn under pandas 3; not ours to fix."""
    here = str(config.rootpath / "tests" / "ui")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"))
