"""deploy/reverse-proxy: nginx.conf and the Caddyfile.

Each configuration is checked by its own tool (`nginx -t`, `caddy validate`), then actually run
on free loopback ports with a self-signed certificate (nginx) or Caddy's internal CA, in front of
a small recording backend standing in for fika on 127.0.0.1:8080. Through each proxy we check
what fika depends on: the Host header, the method, path and query arrive byte for byte (HTTP
signatures cover `host` and `(request-target)`), X-Forwarded-For/Proto are set, plain HTTP is
redirected, WebSocket upgrades pass for /api/v1/streaming, server-sent events are not buffered,
a 17 MiB upload passes, and /metrics is not served to the outside.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy_support import DEPLOY, free_ports, tool

NGINX_CONF = DEPLOY / "reverse-proxy" / "nginx.conf"
CADDYFILE = DEPLOY / "reverse-proxy" / "Caddyfile"
DOMAIN = "social.hq.example.com"
MIB = 1024 * 1024


# --- the stand-in for fika ------------------------------------------------------------------


class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict] = []

    def log_message(self, *args):  # quiet
        pass

    def _record(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        entry = {
            "method": self.command,
            "target": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        Backend.seen.append(entry)
        return entry

    def _handle(self):
        entry = self._record()
        if self.path == "/api/v1/streaming" or self.path.startswith("/api/v1/streaming?"):
            if self.headers.get("Upgrade", "").lower() == "websocket":
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", "x")
                self.end_headers()
                self.wfile.write(b"\x81\x05hello")  # one unmasked text frame
                self.wfile.flush()
                time.sleep(0.5)
                self.close_connection = True
                return
        if self.path.startswith("/api/v1/streaming/"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"event: update\ndata: first\n\n")
            self.wfile.flush()
            time.sleep(2)
            self.wfile.write(b"event: update\ndata: second\n\n")
            self.wfile.flush()
            self.close_connection = True
            return
        payload = json.dumps(entry).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


# --- running the proxies --------------------------------------------------------------------


class Proxy:
    def __init__(self, kind: str, workdir: Path, http_port: int, https_port: int, backend_port: int):
        self.kind, self.dir = kind, workdir
        self.http_port, self.https_port, self.backend_port = http_port, https_port, backend_port
        self.proc: subprocess.Popen | None = None

    def log(self) -> str:
        chunks = []
        for name in ("error.log", "proxy.out"):
            p = self.dir / name
            if p.exists():
                chunks.append(p.read_text(errors="replace")[-4000:])
        return "\n".join(chunks)

    def wait_listening(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.https_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{self.kind} did not listen on {self.https_port}:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def self_signed(workdir: Path) -> tuple[Path, Path]:
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={DOMAIN}", "-addext", f"subjectAltName=DNS:{DOMAIN}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def nginx_site(workdir: Path, http_port: int, https_port: int, backend_port: int) -> Path:
    """The shipped site file with test certificate, ports and upstream; a main file around it."""
    cert, key = self_signed(workdir)
    site = NGINX_CONF.read_text()
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    site = re.sub(r"listen \[::\]:443 [^;]*;", "", site)
    site = site.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{backend_port};")
    (workdir / "site.conf").write_text(site)
    (workdir / "logs").mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = workdir / "nginx.conf"
    main.write_text(
        f"{user}pid {workdir}/nginx.pid;\nerror_log {workdir}/error.log;\nworker_processes 1;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {workdir}/body;\n"
        f"  proxy_temp_path {workdir}/proxy;\n  include {workdir}/site.conf;\n}}\n"
    )
    return main


def caddy_config(workdir: Path, http_port: int, https_port: int, backend_port: int) -> Path:
    text = CADDYFILE.read_text()
    # Global options for a test run: our ports, no admin endpoint, Caddy's own CA, no trust store.
    text = text.replace(
        "{\n\tservers {",
        f"{{\n\thttp_port {http_port}\n\thttps_port {https_port}\n\tadmin off\n"
        f"\tstorage file_system {workdir}/storage\n\tlocal_certs\n\tskip_install_trust\n\tservers {{",
        1,
    )
    text = text.replace("127.0.0.1:8080", f"127.0.0.1:{backend_port}")
    path = workdir / "Caddyfile"
    path.write_text(text)
    return path


def caddy_env(workdir: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(workdir), "XDG_DATA_HOME": str(workdir / "data"),
            "XDG_CONFIG_HOME": str(workdir / "config")}


@pytest.fixture(scope="module")
def backend():
    port = free_ports(1)[0]
    server = ThreadingHTTPServer(("127.0.0.1", port), Backend)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def proxy(request, backend, tmp_path_factory):
    kind = request.param
    workdir = tmp_path_factory.mktemp(kind)
    http_port, https_port = free_ports(2)
    p = Proxy(kind, workdir, http_port, https_port, backend)
    out = open(workdir / "proxy.out", "wb")
    if kind == "nginx":
        conf = nginx_site(workdir, http_port, https_port, backend)
        p.proc = subprocess.Popen(
            [tool("nginx"), "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log"),
             "-g", "daemon off; master_process on;"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    else:
        conf = caddy_config(workdir, http_port, https_port, backend)
        p.proc = subprocess.Popen(
            [tool("caddy"), "run", "--config", str(conf), "--adapter", "caddyfile"],
            stdout=out, stderr=subprocess.STDOUT, env=caddy_env(workdir),
        )
    try:
        p.wait_listening()
        # Caddy issues its certificate from its internal CA in the background: wait for it.
        deadline = time.monotonic() + 20
        while True:
            try:
                request_via(p, "GET", "/warm-up")
                break
            except (ssl.SSLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield p
    finally:
        p.stop()
        out.close()


# --- talking to the proxy -------------------------------------------------------------------


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class _Conn(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with SNI and Host for DOMAIN, as a peer node would connect."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=DOMAIN)


def request_via(proxy: Proxy, method: str, target: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float = 30) -> tuple[int, dict, bytes]:
    conn = _Conn(DOMAIN, proxy.https_port, context=tls_context(), timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", (headers or {}).pop("Host", DOMAIN))
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def last_seen(target_prefix: str) -> dict:
    hits = [e for e in Backend.seen if e["target"].startswith(target_prefix)]
    assert hits, f"the backend never saw {target_prefix}; it saw {[e['target'] for e in Backend.seen][-10:]}"
    return hits[-1]


# --- static checks --------------------------------------------------------------------------


def test_nginx_t_accepts_the_config(tmp_path):
    conf = nginx_site(tmp_path, 80, 443, 8080)
    out = subprocess.run(
        [tool("nginx"), "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0 and "syntax is ok" in out.stderr, out.stderr
    assert "[warn]" not in out.stderr, out.stderr


def test_caddy_validates_the_caddyfile(tmp_path):
    env = caddy_env(tmp_path)
    out = subprocess.run(
        [tool("caddy"), "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert out.returncode == 0 and "Valid configuration" in out.stdout + out.stderr, out.stdout + out.stderr
    adapted = subprocess.run(
        [tool("caddy"), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert adapted.returncode == 0, adapted.stderr
    assert '"level":"warn"' not in adapted.stderr, adapted.stderr  # e.g. "input is not formatted"
    # Nothing in front of fika may rewrite the request (signatures cover the target).
    assert '"rewrite"' not in adapted.stdout and "strip_path_prefix" not in adapted.stdout


def test_configs_keep_host_and_uri():
    nginx = NGINX_CONF.read_text()
    passes = re.findall(r"^\s*proxy_pass\s+(\S+);", nginx, re.M)
    assert passes and all(p == "http://fika" for p in passes), passes  # no URI part
    assert "rewrite " not in nginx
    hosts = re.findall(r"^\s*proxy_set_header\s+Host\s+(\S+);", nginx, re.M)
    assert hosts and all(h == "$http_host" for h in hosts), hosts
    caddy = CADDYFILE.read_text()
    assert not re.search(r"^\s*header_up\s+Host\b", caddy, re.M)


# --- behaviour through the running proxies ------------------------------------------------------


def test_host_method_path_and_query_arrive_unchanged(proxy):
    target = "/users/ada/inbox?x=%2Fa%20b&y=c+d&z=%7E&empty=&x=2"
    body = b'{"type":"Follow"}'
    status, _, reply = request_via(proxy, "POST", target, body, {"Content-Type": "application/activity+json"})
    assert status == 200, (status, reply, proxy.log())
    seen = json.loads(reply)
    assert seen["method"] == "POST"
    assert seen["target"] == target
    assert seen["headers"]["host"] == DOMAIN
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert "127.0.0.1" in seen["headers"]["x-forwarded-for"]
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    # Encoded slashes and a double slash in the path stay as they are too.
    odd = "/users/a%2Fb//outbox?page=true"
    status, _, reply = request_via(proxy, "GET", odd)
    assert status == 200 and json.loads(reply)["target"] == odd, reply


def test_plain_http_redirects_to_https(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    try:
        conn.request("GET", "/@ada?x=1", headers={"Host": DOMAIN})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert resp.status in (301, 308), resp.status
    location = resp.getheader("Location")
    assert location.startswith(f"https://{DOMAIN}") and location.endswith("/@ada?x=1"), location


def test_metrics_is_not_served_through_the_proxy(proxy):
    before = len([e for e in Backend.seen if e["target"].startswith("/metrics")])
    status, _, _ = request_via(proxy, "GET", "/metrics")
    assert status == 404
    assert len([e for e in Backend.seen if e["target"].startswith("/metrics")]) == before


def test_websocket_upgrade_passes_for_streaming(proxy):
    raw = socket.create_connection(("127.0.0.1", proxy.https_port), timeout=10)
    sock = tls_context().wrap_socket(raw, server_hostname=DOMAIN)
    try:
        sock.sendall(
            (
                "GET /api/v1/streaming?stream=user HTTP/1.1\r\n"
                f"Host: {DOMAIN}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        data = b""
        while b"hello" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 101"), data[:200]
    assert b"\x81\x05hello" in data, data
    seen = last_seen("/api/v1/streaming?stream=user")
    assert seen["headers"].get("upgrade", "").lower() == "websocket"
    assert "upgrade" in seen["headers"].get("connection", "").lower()
    assert seen["headers"]["host"] == DOMAIN


def test_server_sent_events_are_not_buffered(proxy):
    conn = _Conn(DOMAIN, proxy.https_port, context=tls_context(), timeout=10)
    try:
        started = time.monotonic()
        conn.request("GET", "/api/v1/streaming/user", headers={"Accept": "text/event-stream"})
        resp = conn.getresponse()
        assert resp.status == 200
        line = b""
        while b"\n\n" not in line:  # the first event, however it is chunked
            chunk = resp.read1(4096)
            if not chunk:
                break
            line += chunk
        first = time.monotonic() - started
    finally:
        conn.close()
    assert line.startswith(b"event: update"), line
    # The backend waits 2 s before the second event: a buffering proxy holds the first one back.
    assert first < 1.5, f"the first event took {first:.2f}s to come through"


def test_a_17_mib_upload_passes(proxy):
    body = os.urandom(17 * MIB)
    status, _, reply = request_via(proxy, "POST", "/api/v2/media", body, {"Content-Type": "application/octet-stream"}, timeout=60)
    assert status == 200, (status, reply[:300])
    seen = json.loads(reply)
    assert seen["body_len"] == len(body) and seen["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_a_30_mib_upload_is_refused(proxy):
    before = len([e for e in Backend.seen if e["target"] == "/api/v2/media?big"])
    body = b"\0" * (30 * MIB)
    try:
        status, _, _ = request_via(proxy, "POST", "/api/v2/media?big", body, {"Content-Type": "application/octet-stream"}, timeout=60)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        status = None  # the proxy answered 413 and closed before we finished sending
    assert status in (413, None), status
    complete = [e for e in Backend.seen if e["target"] == "/api/v2/media?big" and e["body_len"] == len(body)]
    assert not complete, "the proxy passed a 30 MiB body to the node"
    assert len([e for e in Backend.seen if e["target"] == "/api/v2/media?big"]) >= before
