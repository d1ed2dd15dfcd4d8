"""Exposure: loopback by default, credentials off loopback, and no files served from disk."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import rag
from rag.config import PROJECT_ROOT, Config
from rag.types import Document
from ui import app as ui_app
from ui.app import AUTH_ENV, auth_for, is_loopback

gradio_client = pytest.importorskip("gradio_client")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the decision: auth_for ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2", "[::1]"])
def test_loopback_needs_no_credentials(host):
    assert auth_for(host, None, waived=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "chat.example"])
def test_other_interface_without_credentials_is_refused(host):
    with pytest.raises(ValueError, match=rf"{AUTH_ENV}=.*--no-auth"):
        auth_for(host, None, waived=False)


def test_empty_host_counts_as_exposed():
    assert not is_loopback("")
    with pytest.raises(ValueError, match=AUTH_ENV):
        auth_for("", "", waived=False)


def test_explicit_waiver_allows_no_credentials():
    assert auth_for("0.0.0.0", None, waived=True) is None


def test_credentials_come_from_the_environment_value():
    assert auth_for("0.0.0.0", "ann:s3cr:et", waived=False) == ("ann", "s3cr:et")


def test_credentials_given_are_used_on_loopback_too():
    assert auth_for("127.0.0.1", "ann:pw", waived=False) == ("ann", "pw")


def test_credentials_given_are_used_even_when_waived():
    assert auth_for("0.0.0.0", "ann:pw", waived=True) == ("ann", "pw")


@pytest.mark.parametrize("value", ["ann", "ann:", ":hunter2", " : "])
def test_malformed_credentials_are_refused_without_echoing_them(value):
    with pytest.raises(ValueError, match="user:password") as info:
        auth_for("0.0.0.0", value, waived=False)
    assert "hunter2" not in str(info.value)


# --- main(): refuses early, warns loudly, passes auth on ----------------------------------


@pytest.fixture
def fake_launch(monkeypatch):
    """main() with a stub pipeline and a launch that records its arguments, serving nothing."""
    calls: list[dict[str, Any]] = []
    stub = SimpleNamespace(
        config=Config(), documents={"doc.txt": Document("doc.txt", "Alpha beta.", "x")}
    )
    monkeypatch.delenv(AUTH_ENV, raising=False)
    monkeypatch.delenv("VERBATIM_HOST", raising=False)
    monkeypatch.setattr(rag, "load", lambda config, **kw: stub)
    monkeypatch.setattr(
        ui_app, "launch", lambda app, host, port, **kw: calls.append(dict(host=host, **kw)) or ""
    )
    monkeypatch.setattr(ui_app.gr.Blocks, "block_thread", lambda self: None)
    return calls


def test_main_refuses_other_interface_without_credentials(fake_launch, monkeypatch, capsys):
    monkeypatch.setattr(rag, "load", lambda config: pytest.fail("loaded before refusing"))
    with pytest.raises(SystemExit) as info:
        ui_app.main(["--host", "0.0.0.0"])
    assert info.value.code == 2
    assert f'{AUTH_ENV}="user:password"' in capsys.readouterr().err
    assert fake_launch == []


def test_main_refuses_host_from_the_environment_too(fake_launch, monkeypatch):
    monkeypatch.setenv("VERBATIM_HOST", "0.0.0.0")
    with pytest.raises(SystemExit) as info:
        ui_app.main([])
    assert info.value.code == 2
    assert fake_launch == []


def test_main_without_auth_on_purpose_warns_loudly(fake_launch, caplog):
    with caplog.at_level(logging.WARNING, logger="ui.app"):
        ui_app.main(["--host", "0.0.0.0", "--no-auth"])
    assert fake_launch == [{"host": "0.0.0.0", "quiet": True, "auth": None}]
    assert "WITHOUT A PASSWORD" in caplog.text


def test_main_passes_credentials_to_gradio(fake_launch, monkeypatch):
    monkeypatch.setenv(AUTH_ENV, "ann:pw")
    ui_app.main(["--host", "0.0.0.0"])
    assert fake_launch[0]["auth"] == ("ann", "pw")


def test_main_binds_loopback_by_default(fake_launch):
    ui_app.main([])
    assert fake_launch[0]["host"] == "127.0.0.1" and fake_launch[0]["auth"] is None


# --- a launched server with credentials ---------------------------------------------------


@pytest.fixture(scope="module")
def locked_url(extractive_bot):
    """main() serving the extractive pipeline on loopback with ``VERBATIM_AUTH=ann:pw``."""
    started: list[Any] = []
    real_launch = ui_app.launch
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(AUTH_ENV, "ann:pw")
        mp.setattr(rag, "load", lambda config, **kw: extractive_bot)
        mp.setattr(ui_app.gr.Blocks, "block_thread", lambda self: None)

        def launch(app, host, port, **kw):
            started.append(app)
            return real_launch(app, host, port, **kw)

        mp.setattr(ui_app, "launch", launch)
        port = free_port()
        ui_app.main(["--host", "127.0.0.1", "--port", str(port)])
    yield f"http://127.0.0.1:{port}/"
    for app in started:
        app.close()


def test_locked_server_refuses_api_calls_without_credentials(locked_url):
    response = httpx.get(locked_url + "gradio_api/info", timeout=30)
    assert response.status_code == 401


def test_locked_server_refuses_wrong_password(locked_url):
    with pytest.raises(Exception, match="(?i)login|auth|credential"):
        gradio_client.Client(locked_url, auth=("ann", "wrong"), verbose=False)


def test_locked_server_answers_with_credentials(locked_url):
    client = gradio_client.Client(locked_url, auth=("ann", "pw"), verbose=False)
    result = client.predict("What did China do in 2019?", api_name="/ask")
    assert result["citations"] and not result["abstained"]


# --- no files from disk -------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_url(serve, extractive_bot) -> str:
    return serve(extractive_bot)


def _raw_get(url: str, raw_path: str) -> httpx.Response:
    """GET ``raw_path`` exactly as written: no dot-segment removal, no re-encoding."""
    base = httpx.URL(url)
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        request = client.build_request("GET", base)
        request.url = base.copy_with(raw_path=raw_path.encode("ascii"))
        return client.send(request)


PASSWD = [
    "/file=/etc/passwd",
    "/gradio_api/file=/etc/passwd",
    "/gradio_api/file=../../../../etc/passwd",
    "/gradio_api/file=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/gradio_api/file=%2Fetc%2Fpasswd",
    "/gradio_api/file=%252Fetc%252Fpasswd",
    "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/gradio_api/file=....//....//....//etc/passwd",
    "/gradio_api/file=/tmp/../etc/passwd",
    "/gradio_api/file=file:///etc/passwd",
    "/gradio_api/file/etc/passwd",
    "/gradio_api/file//etc/passwd",
    "/file/etc/passwd",
    "/static/../../../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/assets/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/gradio_api/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/favicon.ico/../../../../etc/passwd",
]


@pytest.mark.parametrize("raw_path", PASSWD)
def test_system_files_are_not_served(open_url, raw_path):
    response = _raw_get(open_url, raw_path)
    assert "root:" not in response.text, f"{raw_path} -> {response.status_code}"


@pytest.mark.parametrize("raw_path", PASSWD[:13])
def test_file_routes_refuse_system_files(open_url, raw_path):
    assert _raw_get(open_url, raw_path).status_code in (400, 403, 404)


def _project_files() -> list[Path]:
    return [
        PROJECT_ROOT / "pyproject.toml",
        PROJECT_ROOT / "data" / "article.txt",
        PROJECT_ROOT / "rag" / "config.py",
    ]


@pytest.mark.parametrize("path", _project_files(), ids=lambda p: p.name)
def test_project_files_are_not_served(open_url, path):
    for raw in (f"/gradio_api/file={path}", f"/gradio_api/file={path.relative_to(PROJECT_ROOT)}"):
        response = _raw_get(open_url, raw)
        assert response.status_code in (403, 404), raw
        assert path.read_text(encoding="utf-8")[:200] not in response.text


def test_file_route_does_not_fetch_loopback_urls(open_url):
    """``file=<url>`` must not become a proxy into this machine (SSRF)."""
    response = _raw_get(open_url, f"/gradio_api/file={open_url}gradio_api/info")
    assert response.status_code == 403


def test_uploads_are_refused(open_url):
    """The chat takes no files, so nobody can store one on the server to have it served."""
    files = {"files": ("page.html", b"<script>alert(1)</script>" * 100, "text/html")}
    response = httpx.post(open_url + "gradio_api/upload", files=files, timeout=30)
    assert response.status_code == 403
