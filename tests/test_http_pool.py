"""The client's own HTTP/1.1 pool (flowql/client/http.py) against a real server on 127.0.0.1:
keep-alive and when a connection is not kept, bodies as servers send them (Content-Length,
chunked, gzip, deflate with and without its zlib wrapper), ``max_body`` counted decoded, the
request as it goes on the wire, TLS, and failures as SendError or BodyError."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http.server
import json
import ssl
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowql import __version__
from flowql.client.http import Answer, BodyError, Pool, SendError, tls_context

TLS = Path(__file__).parent / "fixtures" / "tls"
PAYLOAD = json.dumps({"data": list(range(2000))}).encode()


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "/plain": (PAYLOAD, {}),
    "/gzip": (gzip.compress(PAYLOAD), {"Content-Encoding": "gzip"}),
    "/deflate": (zlib.compress(PAYLOAD), {"Content-Encoding": "deflate"}),
    "/raw-deflate": (_raw_deflate(PAYLOAD), {"Content-Encoding": "deflate"}),
    "/gzip-twice": (gzip.compress(gzip.compress(PAYLOAD)), {"Content-Encoding": "gzip, gzip"}),
    "/brotli": (b"\x0b\x02\x80", {"Content-Encoding": "br"}),
    "/not-gzip": (b"plain text", {"Content-Encoding": "gzip"}),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Transfer-Encoding" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path in BODIES:
            body, headers = BODIES[self.path]
            self._send(200, body, headers)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(PAYLOAD), 1000):
                part = PAYLOAD[start : start + 1000]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self._send(200, b"{}", {"Connection": "close"})
        elif self.path == "/hang-up":  # answers, says nothing, then closes the connection
            self._send(200, b"{}", {})
            self.close_connection = True
        elif self.path == "/repeated":
            self._send(200, b"{}", {"X-Thing": "a", "x-thing": "b"})
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(50):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    self.server.stop.wait(0.05)
            self.close_connection = True
        else:
            self.do_POST()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = {
            "request_line": self.requestline,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": self.rfile.read(length).decode(),
        }
        self._send(200, json.dumps(seen).encode(), {"Content-Type": "application/json"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def __init__(self, tls: bool) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(TLS / "localhost.crt", TLS / "localhost.key")
            self.socket = context.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def serving(tls: bool = False) -> Iterator[Server]:
    server = Server(tls)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


def fetch(pool: Pool, url: str, *, max_body: int = 1 << 26, **kw: Any) -> Answer:
    return asyncio.run(_fetch(pool, url, max_body=max_body, **kw))


async def _fetch(
    pool: Pool,
    url: str,
    *,
    max_body: int,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> Answer:
    try:
        return await pool.send(method, url, headers or {}, content, max_body, lambda: None)
    finally:
        await pool.aclose()


def test_a_kept_connection_serves_every_request_to_its_origin() -> None:
    async def main(url: str) -> list[Answer]:
        pool = Pool()
        try:
            return [
                await pool.send("GET", url + "/plain", {}, None, 1 << 20, lambda: None)
                for _ in range(5)
            ]
        finally:
            await pool.aclose()

    with serving() as server:
        answers = asyncio.run(main(server.url))
        assert [a.status for a in answers] == [200] * 5
        assert all(a.body == PAYLOAD for a in answers)
        assert server.connections == 1


@pytest.mark.parametrize("path", ["/close", "/hang-up"])
def test_a_connection_the_server_ends_is_not_used_again(path: str) -> None:
    async def main(url: str) -> list[int]:
        pool = Pool()
        try:
            statuses = []
            for _ in range(3):
                answer = await pool.send("GET", url + path, {}, None, 1 << 20, lambda: None)
                statuses.append(answer.status)
                await asyncio.sleep(0.1)  # the server's closing reaches this side
            return statuses
        finally:
            await pool.aclose()

    with serving() as server:
        assert asyncio.run(main(server.url)) == [200, 200, 200]
        assert server.connections == 3


@pytest.mark.parametrize(
    "path", ["/plain", "/gzip", "/deflate", "/raw-deflate", "/gzip-twice", "/chunked"]
)
def test_bodies_are_read_and_decoded_as_servers_send_them(path: str) -> None:
    with serving() as server:
        answer = fetch(Pool(), server.url + path)
    assert answer.status == 200
    assert answer.body == PAYLOAD
    assert answer.is_success


@pytest.mark.parametrize("path", ["/plain", "/gzip", "/gzip-twice", "/chunked"])
def test_max_body_counts_the_decoded_body(path: str) -> None:
    with serving() as server:
        assert fetch(Pool(), server.url + path, max_body=len(PAYLOAD)).body == PAYLOAD
        with pytest.raises(BodyError, match="larger than"):
            fetch(Pool(), server.url + path, max_body=len(PAYLOAD) - 1)


@pytest.mark.parametrize(("path", "words"), [("/brotli", "'br'"), ("/not-gzip", "decoded")])
def test_a_body_that_does_not_decode_is_a_body_error(path: str, words: str) -> None:
    with serving() as server, pytest.raises(BodyError, match=words):
        fetch(Pool(), server.url + path)


def test_the_request_on_the_wire() -> None:
    with serving() as server:
        port = server.server_address[1]
        answer = fetch(
            Pool(),
            server.url + "/echo/a b/é/%2F?x=a b&y=%26",
            method="POST",
            headers={"Authorization": "Basic eDp5", "Content-Type": "application/json"},
            content=b'{"q":1}',
        )
        seen = json.loads(answer.body)
        headers = {k.lower(): v for k, v in seen["headers"]}
        assert seen["request_line"] == "POST /echo/a%20b/%C3%A9/%2F?x=a%20b&y=%26 HTTP/1.1"
        assert headers["host"] == f"127.0.0.1:{port}"
        assert headers["user-agent"] == f"flowql/{__version__}"
        assert headers["accept-encoding"] == "gzip, deflate"
        assert headers["authorization"] == "Basic eDp5"
        assert headers["content-length"] == "7"
        assert seen["body"] == '{"q":1}'
        # The caller's own User-Agent wins; a GET has no body and no Content-Length.
        answer = fetch(Pool(), server.url + "/echo", headers={"User-Agent": "mine"})
        headers = {k.lower(): v for k, v in json.loads(answer.body)["headers"]}
        assert headers["user-agent"] == "mine"
        assert "content-length" not in headers


def test_repeated_answer_headers_are_joined() -> None:
    with serving() as server:
        assert fetch(Pool(), server.url + "/repeated").headers["x-thing"] == "a, b"


def test_tls_is_verified() -> None:
    trusting = ssl.create_default_context(cafile=str(TLS / "localhost.crt"))
    with serving(tls=True) as server:
        assert fetch(Pool(tls=trusting), server.url + "/plain").body == PAYLOAD
        # The default context (certifi's authorities) does not know a self-signed certificate.
        with pytest.raises(SendError, match=r"ConnectError.*CERTIFICATE_VERIFY_FAILED"):
            fetch(Pool(), server.url + "/plain")
    assert tls_context().verify_mode == ssl.CERT_REQUIRED


def test_a_refused_connection_is_a_send_error() -> None:
    with serving() as server:
        url = server.url
    with pytest.raises(SendError, match=r"^ConnectError: "):
        fetch(Pool(), url + "/plain")


def test_an_exchange_cut_off_by_its_deadline_closes_its_connection() -> None:
    async def main(url: str) -> int:
        pool = Pool()
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(
                    pool.send("GET", url + "/drip", {}, None, 1 << 20, lambda: None), 0.3
                )
            answer = await pool.send("GET", url + "/plain", {}, None, 1 << 20, lambda: None)
            return answer.status
        finally:
            await pool.aclose()

    with serving() as server:
        assert asyncio.run(main(server.url)) == 200
        assert server.connections == 2  # the half-read one was not used again


def test_a_scheme_other_than_http_is_a_send_error() -> None:
    with pytest.raises(SendError, match="UnsupportedProtocol"):
        fetch(Pool(), "ftp://127.0.0.1/x")
