"""Hostile inputs, area "secrets": no byte flowql writes holds a credential, in any spelling.

A tiny HTTP server on 127.0.0.1 (started and stopped by each test) echoes the Authorization
header it receives (whole, its token, or the secret inside it; raw or percent-encoded) into an
error message or into its data. Every output is searched for every spelling of the secret:
exception messages and reprs, log records (DEBUG included), the CLI's stdout and stderr,
``to_json()``/``to_csv()``, the file ``flowql model pull`` writes, the REPL's history.
Credentials are checked when read, base URLs with a password are refused, and loopback is an
address (or the exact name ``localhost``), never a ``*.localhost`` name.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hostile import failed, tried

from flowql.cli import main
from flowql.client import ClientError, ConvivaFlowClient, KlaviyoClient, RetryPolicy
from flowql.client._core import check_url, is_loopback, secret_from

AREA = "secrets"
KEY = "pk_ZQX7+S3CR3T/klaviyo-77aa0b"
CLIENT_ID = "cid-4711-conviva"
SECRET = "csec+ZQX7/S3CR3T-wq0Ld2Jm9xKp"
BASIC = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()


def _lower_hex(text: str) -> str:
    out, at = [], 0
    while at < len(text):
        if text[at] == "%":
            out.append(text[at : at + 3].lower())
            at += 3
        else:
            out.append(text[at])
            at += 1
    return "".join(out)


ENCODINGS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "quote": lambda v: quote(v, safe=""),
    "quote-lower": lambda v: _lower_hex(quote(v, safe="")),
    "quote-plus": lambda v: quote_plus(v, safe=""),
    "quote-slash": lambda v: quote(v),
}


def spellings(value: str) -> dict[str, str]:
    """Every spelling the tests look for (written here, not taken from flowql)."""
    found = {name: encode(value) for name, encode in ENCODINGS.items()}
    found["base64"] = base64.b64encode(value.encode()).decode().rstrip("=")
    return found


def leaks(text: str, values: tuple[str, ...]) -> list[str]:
    """The spellings of ``values`` (and their first 12 characters, which a cut would leave)
    found in ``text``."""
    found = []
    for value in values:
        for name, form in spellings(value).items():
            if form in text:
                found.append(f"{name} of a secret")
            elif name != "base64" and form[:12] in text:
                found.append(f"the start of the {name} of a secret")
    return found


def assert_clean(text: str, *values: str) -> None:
    tried(AREA)
    found = leaks(text, values or (KEY, SECRET, BASIC))
    if found:
        failed(AREA)
    assert not found, f"{found} in {text[:2000]!r}"


# --- the echoing server --------------------------------------------------------------------------


def _part(header: str, part: str) -> str:
    token = header.partition(" ")[2]
    if part == "header":
        return header
    if part == "token":
        return token
    if header.startswith("Basic "):  # the secret inside the Basic token
        return base64.b64decode(token).decode().partition(":")[2]
    return token


class Echo:
    """What the server answers: ``status``, and ``body(echo)`` the JSON (or text) holding
    ``echo``, the part of the Authorization header, encoded."""

    def __init__(self) -> None:
        self.status = 200
        self.part = "header"
        self.encoding = "raw"
        self.body: Callable[[str], object] = lambda echo: {"message": echo}
        self.requests = 0
        self.url = ""


def _serve(echo: Echo) -> Iterator[Echo]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            echo.requests += 1
            header = self.headers.get("Authorization", "")
            said = ENCODINGS[echo.encoding](_part(header, echo.part))
            body = echo.body(said)
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(echo.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    echo.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield echo
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def server() -> Iterator[Echo]:
    yield from _serve(Echo())


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("KLAVIYO_API_KEY", KEY)
    monkeypatch.setenv("CONVIVA_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CONVIVA_CLIENT_SECRET", SECRET)
    return monkeypatch


PARTS = ("header", "token", "secret")
ECHOES = [(part, encoding) for part in PARTS for encoding in ENCODINGS]


def _metric(echo: str) -> dict[str, object]:
    return {
        "type": "metric",
        "id": "m1",
        "attributes": {
            "name": echo,
            "created": "2024-01-01T00:00:00+00:00",
            "updated": "2024-01-01T00:00:00+00:00",
            "integration": {
                "object": "integration",
                "id": "i1",
                "key": "k",
                "name": "x " + echo,
                "category": "c",
            },
        },
    }


ERROR_BODIES: dict[str, Callable[[str], object]] = {
    "message": lambda e: {"message": "refused: " + e},
    # The secret across the 500-character cut of a JSON:API detail...
    "detail-at-cut": lambda e: {"errors": [{"detail": "x" * 486 + e}]},
    # ... and across the 300-character cut of a body that is not JSON.
    "text-at-cut": lambda e: "y" * 286 + e,
    "repr-at-cut": lambda e: {"other": ["z" * 276 + e]},
}


def _klaviyo(echo: Echo) -> KlaviyoClient:
    return KlaviyoClient(KEY, base_url=echo.url + "/api/", retry=RetryPolicy(max_attempts=1))


# --- 1. every spelling, in every output ---------------------------------------------------------


@pytest.mark.parametrize("body", sorted(ERROR_BODIES))
@pytest.mark.parametrize(("part", "encoding"), ECHOES)
def test_an_echoed_secret_is_in_no_error_nor_log(
    server: Echo, caplog: pytest.LogCaptureFixture, part: str, encoding: str, body: str
) -> None:
    server.status, server.part, server.encoding = 400, part, encoding
    server.body = ERROR_BODIES[body]
    caplog.set_level(logging.DEBUG, logger="flowql")
    with _klaviyo(server) as client, pytest.raises(ClientError) as caught:
        client.metrics()
    exc = caught.value
    for text in (str(exc), repr(exc), exc.render("<x>"), getattr(exc, "server_message", "")):
        assert_clean(text)
    assert_clean("\n".join(r.getMessage() for r in caplog.records))


@pytest.mark.parametrize("body", sorted(ERROR_BODIES))
@pytest.mark.parametrize(("part", "encoding"), ECHOES)
def test_an_echoed_basic_token_is_in_no_conviva_error(
    server: Echo, part: str, encoding: str, body: str
) -> None:
    server.status, server.part, server.encoding = 403, part, encoding
    server.body = ERROR_BODIES[body]
    client = ConvivaFlowClient(
        CLIENT_ID, SECRET, base_url=server.url, retry=RetryPolicy(max_attempts=1)
    )
    with client, pytest.raises(ClientError) as caught:
        client.data_model_json()
    assert_clean(str(caught.value))
    assert_clean(repr(caught.value))


@pytest.mark.parametrize(("part", "encoding"), ECHOES)
def test_an_echoed_secret_is_in_no_result(server: Echo, part: str, encoding: str) -> None:
    server.part, server.encoding = part, encoding
    server.body = lambda e: {"data": [_metric(e)], "links": {"next": None}}
    with _klaviyo(server) as client:
        rows = client.metrics()
    assert len(rows) == 1
    for text in (rows.to_json(), rows.to_csv(), repr(rows), str(rows.to_records())):
        assert_clean(text)


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
@pytest.mark.parametrize(("part", "encoding"), ECHOES)
def test_the_cli_writes_no_echoed_secret(
    server: Echo,
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    part: str,
    encoding: str,
    fmt: str,
) -> None:
    server.part, server.encoding = part, encoding
    server.body = lambda e: {"data": [_metric(e)], "links": {"next": None}}
    argv = ["query", "klaviyo", "metrics", "--base-url", server.url + "/api/", "--format", fmt]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert_clean(out)
    assert_clean(err)
    server.status, server.body = 400, ERROR_BODIES["detail-at-cut"]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert_clean(out + err)


@pytest.mark.parametrize(("part", "encoding"), ECHOES)
def test_model_pull_writes_no_echoed_secret(
    server: Echo,
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    part: str,
    encoding: str,
) -> None:
    server.part, server.encoding = part, encoding
    server.body = lambda e: {
        "flow_models": [{"id": "825", "label": e, "metrics": [], "dimensions": [{"key": e}]}]
    }
    output = tmp_path / "model.json"
    assert main(["model", "pull", "--base-url", server.url, "-o", str(output)]) == 0
    out, err = capsys.readouterr()
    assert_clean(output.read_text(encoding="utf-8"))
    assert_clean(out + err)


# --- 2. credentials checked when read -----------------------------------------------------------

BAD_KEYS = {
    "\r": "carriage return",
    "\r\n": "carriage return",
    "\n": "line feed",
    "\t": "tab",
    " ": "space",
    "\x00": "control character",
    "\x7f": "control character",
    "\x1b[0m": "control character",
    "\u00e9": "non-ASCII",
    "\u2013": "non-ASCII",
    "\ufeff": "non-ASCII",
}


# A space or a line end inside a key is the same check as at its end, in other words.
PLACES = [(bad, "end") for bad in sorted(BAD_KEYS)] + [
    (bad, "middle") for bad in sorted(BAD_KEYS) if bad == "\t" or not bad.isspace()
]


@pytest.mark.parametrize(("bad", "where"), PLACES)
def test_a_bad_credential_is_refused_when_read(bad: str, where: str) -> None:
    value = KEY + bad if where == "end" else KEY[:5] + bad + KEY[5:]
    with pytest.raises(ClientError) as caught:
        secret_from(value, "KLAVIYO_API_KEY", "Klaviyo API key")
    exc = caught.value
    assert exc.code == "FQ721"
    assert_clean(exc.render("<x>"), KEY, value)
    if where == "end" or not bad.isspace():
        assert BAD_KEYS[bad] in exc.message
    if bad == "\r":
        assert "strip it" in exc.message
        assert "Windows" in exc.message


@pytest.mark.parametrize("bad", sorted(BAD_KEYS))
def test_the_cli_refuses_a_bad_key_before_any_request(
    server: Echo, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    # The environment cannot hold a NUL: another control character stands for it there.
    env.setenv("KLAVIYO_API_KEY", KEY + bad.replace("\x00", "\x01"))
    code = main(["query", "klaviyo", "metrics", "--base-url", server.url + "/api/"])
    out, err = capsys.readouterr()
    assert code != 0
    assert server.requests == 0
    assert "Traceback" not in err
    assert "LocalProtocolError" not in err
    assert "FQ721" in err
    assert_clean(out + err)


def test_a_key_with_a_carriage_return_never_reaches_the_wire(server: Echo) -> None:
    with pytest.raises(ClientError) as caught:
        KlaviyoClient(KEY + "\r", base_url=server.url + "/api/")
    assert "carriage return" in caught.value.message
    assert server.requests == 0


# --- 3. a password in the base URL --------------------------------------------------------------

USERINFO_URLS = [
    "http://user:hunter2pw@127.0.0.1:9/",
    "https://user:hunter2pw@api.example.com/",
    "https://hunter2pw@api.example.com/",
    "http://user:hunter2pw@localhost:9/",
    "https://user:hunter2%40pw@api.example.com/",
]


@pytest.mark.parametrize("url", USERINFO_URLS)
def test_a_base_url_with_a_password_is_refused(url: str) -> None:
    with pytest.raises(ClientError) as caught:
        check_url(url)
    assert caught.value.code == "FQ720"
    assert_clean(caught.value.render("<x>"), "hunter2pw", "hunter2")


@pytest.mark.parametrize("url", USERINFO_URLS)
def test_the_cli_shows_no_password_of_a_base_url(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    for argv in (
        ["query", "klaviyo", "metrics", "--base-url", url],
        ["query", "klaviyo", "metrics", "--base-url", url, "--dry-run"],
        ["model", "pull", "--base-url", url],
    ):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code != 0
        assert "Traceback" not in err
        assert_clean(out + err, "hunter2pw", "hunter2")


# --- 4. loopback by address ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.localhost",
        "a.b.localhost",
        "LOCALHOST.example",
        "localhost.localdomain",
        "127.0.0.1.nip.io",
    ],
)
def test_a_localhost_name_is_not_loopback(host: str) -> None:
    tried(AREA)
    assert not is_loopback(host)
    with pytest.raises(ClientError) as caught:
        check_url(f"http://{host}:8080/")
    assert caught.value.code == "FQ720"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.8.7", "[::1]", "localhost", "LocalHost"])
def test_a_loopback_address_is(host: str) -> None:
    assert is_loopback(host)
    assert check_url(f"http://{host}:8080/") == f"http://{host}:8080/"


# --- 5. the REPL's history ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(spellings(KEY)))
def test_the_history_keeps_no_line_holding_a_secret(
    env: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    from flowql.repl.app import _history

    path = tmp_path / "sub" / "history"
    history = _history(str(path))
    history.store_string("event.name == 'x'")
    history.store_string(f"key == '{spellings(KEY)[name]}'")
    history.store_string(f"note == '{spellings(SECRET)[name]}'")
    history.store_string(f"auth == '{BASIC}'")
    text = path.read_text(encoding="utf-8")
    assert "event.name == 'x'" in text
    assert_clean(text)


def test_the_history_file_is_private(tmp_path: Path) -> None:
    from flowql.repl.app import _history

    tried(AREA)
    old = os.umask(0o022)
    try:
        path = tmp_path / "history"
        _history(str(path)).store_string("a == 'b'")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_clean_answer_is_not_walked_and_an_escaped_one_is() -> None:
    from flowql.redact import Redactor

    redactor = Redactor(["s3cr3t-value"])
    assert not redactor.may_hold(b'{"a": "clean"}')
    assert redactor.may_hold(b'{"a": "x s3cr3t-value"}')
    # Escapes and other encodings could spell it in a way the bytes do not show.
    assert redactor.may_hold(b'{"a": "\\u0073"}')
    assert redactor.may_hold('{"a": "x"}'.encode("utf-16"))
    assert redactor.may_hold(b'{"a": "\xff"}')
    assert not Redactor([]).may_hold(b'{"a": "s3cr3t-value"}')
