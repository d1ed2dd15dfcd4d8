"""``rag chat``: the web chat as a command next to ``rag ask`` and ``rag serve-api``."""

from __future__ import annotations

import pytest

import ui.app
from rag import cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["chat"], []),
        (["chat", "--host", "0.0.0.0", "--port", "8123"], ["--host", "0.0.0.0", "--port", "8123"]),
    ],
)
def test_rag_chat_runs_the_web_chat_with_its_host_and_port(monkeypatch, argv, expected):
    calls: list[list[str]] = []
    monkeypatch.setattr(ui.app, "main", lambda args: calls.append(list(args)))
    assert cli.main(argv) == 0
    assert calls == [expected]


def test_rag_chat_is_listed_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "chat" in capsys.readouterr().out
