"""Harness for the client-compatibility suite: real `fika` nodes on loopback ports.

Each test module gets its own node (module-scoped fixture) with its own storage: a SQLite file in
a temporary directory, or, with FIKA_TEST_BACKEND=postgres, a fresh PostgreSQL database on
FIKA_TEST_POSTGRES_URL that is dropped afterwards. The binary is FIKA_BIN (scripts/client-tests
sets it); nothing here builds anything.
"""

from __future__ import annotations

import itertools
import os
import queue
import random
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest
import requests
from mastodon import Mastodon, MastodonError

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
JS_DIR = HERE / "js"

FIKA_BIN = os.environ.get("FIKA_BIN") or str(
    Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache/fika/target") / "debug/fika"
)
POSTGRES_URL = os.environ.get("FIKA_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
START_TIMEOUT = 60
SCOPES = ["read", "write", "follow", "push"]
OOB = "urn:ietf:wg:oauth:2.0:oob"
CUSTOM_REDIRECT = "fika-test://cb"
HTTP_TIMEOUT = 30


def backend_is_postgres() -> bool:
    return os.environ.get("FIKA_TEST_BACKEND") == "postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without any FIKA_* or RUST_LOG setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIKA_") and k != "RUST_LOG"}
    env["FIKA_LOG_LEVEL"] = "info,sqlx=warn"
    env.update(extra)
    return env


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{POSTGRES_URL}/postgres", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


_db_counter = itertools.count()


class TestDb:
    """One node's storage: a data directory and a database, both removed by `drop()`."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fika-client-"))
        self.pg_name: Optional[str] = None
        if backend_is_postgres():
            self.pg_name = f"fika_client_{os.getpid()}_{next(_db_counter)}_{random.randrange(1 << 30)}"
            try:
                _psql(f"CREATE DATABASE {self.pg_name}")
            except subprocess.CalledProcessError as e:
                raise RuntimeError(f"could not create the test database: {e.stderr}") from e
            self.url = f"{POSTGRES_URL}/{self.pg_name}"
        else:
            self.url = f"sqlite://{self.dir / 'fika.db'}"

    def env(self) -> dict[str, str]:
        return {"FIKA_DATA_DIR": str(self.dir), "FIKA_DATABASE_URL": self.url}

    def drop(self) -> None:
        if self.pg_name:
            try:
                _psql(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
                print(f"warning: could not drop test database {self.pg_name}: {e}", file=sys.stderr)
            self.pg_name = None
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class User:
    username: str
    email: str
    password: str
    #: A Mastodon.py client logged in as this user (password grant), set by `Node.user()`.
    api: Optional[Mastodon] = None
    token: Optional[str] = None
    account: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.account["id"]


class Node:
    """A running `fika serve`."""

    def __init__(self, db: TestDb, port: Optional[int] = None, extra_env: Optional[dict[str, str]] = None) -> None:
        self.db = db
        self.port = port or free_port()
        self.domain = f"127.0.0.1:{self.port}"
        self.base = f"http://{self.domain}"
        self.stderr_path = db.dir / "stderr.log"
        self.admin_password: Optional[str] = None
        self._app: Optional[tuple[str, str]] = None
        self._names = itertools.count(1)
        self.stdout_lines: list[str] = []
        env = clean_env(
            {
                **db.env(),
                "FIKA_SERVER_LISTEN": self.domain,
                "FIKA_OAUTH_PASSWORD_GRANT": "true",
                **(extra_env or {}),
            }
        )
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [FIKA_BIN, "serve"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(
                    f"node did not start on port {self.port} (exit {self.proc.returncode}); "
                    f"stdout:\n" + "\n".join(self.stdout_lines) + "\nstderr:\n" + self.log()
                )
            self.stdout_lines.append(line)
            stripped = line.strip()
            if stripped.startswith("password: "):
                self.admin_password = stripped[len("password: "):]
            if line.startswith("fika listening on"):
                break
        # Keep draining stdout so the node never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in iter(lines.get, None)], daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def log(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def cli(self, *args: str, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
        """Runs `fika ARGS` against this node's storage."""
        return subprocess.run(
            [FIKA_BIN, *args],
            env=clean_env(self.db.env()),
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=60,
        )

    def create_user(self, name: Optional[str] = None, password: Optional[str] = None) -> User:
        name = name or f"user{next(self._names)}"
        email = f"{name}@example.com"
        password = password or secrets.token_urlsafe(16)
        out = self.cli("admin", "create-user", name, "--email", email, "--password-stdin", stdin=password + "\n")
        assert out.returncode == 0, f"create-user {name} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
        return User(name, email, password)

    def app(self) -> tuple[str, str]:
        """One registered app (client_id, client_secret) shared by the module's users."""
        if self._app is None:
            try:
                self._app = Mastodon.create_app(
                    "fika client tests",
                    scopes=SCOPES,
                    redirect_uris=[OOB, CUSTOM_REDIRECT],
                    website="https://example.com/fika-tests",
                    api_base_url=self.base,
                )
            except (KeyError, MastodonError) as e:
                # Mastodon.py does not look at the status code here: show what the node said.
                r = requests.post(
                    self.url("/api/v1/apps"),
                    data={"client_name": "probe", "redirect_uris": OOB, "scopes": " ".join(SCOPES)},
                    timeout=HTTP_TIMEOUT,
                )
                raise AssertionError(
                    f"Mastodon.create_app failed ({e!r}); POST /api/v1/apps answers {r.status_code} {r.text[:300]}"
                ) from e
        return self._app

    def client(self, token: Optional[str] = None, **kw) -> Mastodon:
        return Mastodon(access_token=token, api_base_url=self.base, request_timeout=HTTP_TIMEOUT, **kw)

    def login(self, user: User, scopes: list[str] = SCOPES) -> Mastodon:
        client_id, client_secret = self.app()
        m = Mastodon(
            client_id=client_id,
            client_secret=client_secret,
            api_base_url=self.base,
            request_timeout=HTTP_TIMEOUT,
        )
        m.log_in(user.email, user.password, scopes=scopes, allow_http=True)
        return m

    def user(self, name: Optional[str] = None) -> User:
        """A new account, logged in with Mastodon.py (password grant, all scopes)."""
        u = self.create_user(name)
        u.api = self.login(u)
        u.token = u.api.access_token
        u.account = dict(u.api.account_verify_credentials())
        assert u.account["username"] == u.username
        return u

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._stderr.close()
                return -9
        self._stderr.close()
        return self.proc.returncode


def start_node(port: Optional[int] = None, extra_env: Optional[dict[str, str]] = None) -> Node:
    if not os.access(FIKA_BIN, os.X_OK):
        pytest.exit(f"no fika binary at {FIKA_BIN}: set FIKA_BIN or build it", returncode=1)
    db = TestDb()
    try:
        return Node(db, port=port, extra_env=extra_env)
    except Exception:
        db.drop()
        raise


_live_nodes: list[Node] = []


def finish_node(n: Node) -> None:
    """Stops a node started for a module, drops its storage, and fails if it did not stop cleanly."""
    if n in _live_nodes:
        _live_nodes.remove(n)
    code = n.stop()
    log = n.log()
    n.db.drop()
    assert code == 0, f"fika serve exited with {code} on SIGTERM; its log:\n{log[-8000:]}"


@pytest.fixture(scope="module")
def node():
    n = start_node()
    _live_nodes.append(n)
    try:
        yield n
    finally:
        finish_node(n)


@pytest.fixture(scope="module")
def peers():
    """Two nodes that allow each other and federate over plain HTTP on loopback."""
    ports = [free_port(), free_port()]
    allowed = "[" + ", ".join(f"127.0.0.1:{p}" for p in ports) + "]"
    env = {
        "FIKA_FEDERATION_ALLOWED_DOMAINS": allowed,
        "FIKA_FEDERATION_ALLOW_HTTP": "true",
        "FIKA_FEDERATION_RETRY_BASE_SECONDS": "1",
    }
    started: list[Node] = []
    try:
        for p in ports:
            n = start_node(port=p, extra_env=env)
            started.append(n)
            _live_nodes.append(n)
        yield started
    finally:
        failures = []
        for n in started:
            try:
                finish_node(n)
            except AssertionError as e:
                failures.append(e)
        if failures:
            raise failures[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the tail of the module's node log to the report."""
    report = yield
    if report.failed:
        for n in list(_live_nodes):
            tail = "\n".join(n.log().splitlines()[-60:])
            report.sections.append((f"fika node {n.domain} stderr (tail)", tail))
    return report


# ---------------------------------------------------------------------------------------------
# Helpers shared by the test modules


def make_png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A valid RGB PNG with a gradient, built with zlib and struct only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(((x * 4 + seed) & 0xFF, (y * 5) & 0xFF, ((x + y) * 3 + seed * 7) & 0xFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def raw(node: Node, method: str, path: str, token: Optional[str] = None, **kw) -> requests.Response:
    """A plain HTTP request to the node (for what a client library hides: status codes, bodies)."""
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    kw.setdefault("allow_redirects", False)
    kw.setdefault("timeout", HTTP_TIMEOUT)
    return requests.request(method, node.url(path), headers=headers, **kw)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


def home_once_it_has(user: User, *status_ids: str, limit: int = 40, timeout: float = 10.0) -> list:
    """`user`'s home timeline once it holds every one of `status_ids`. Home feeds other than the
    author's are written by the node's fan-out worker just after a status is posted, so a test
    reading a follower's home right after posting waits for this first, then asserts on the page."""
    page = wait_for(
        lambda: (lambda p: p if all(i in [s["id"] for s in p] for i in status_ids) else None)(
            user.api.timeline_home(limit=limit)
        ),
        timeout=timeout,
    )
    assert page, f"home timeline of {user.username} lacks {status_ids} after {timeout} s"
    return page


def statuses_count(user: User) -> int:
    return user.api.account_verify_credentials()["statuses_count"]
