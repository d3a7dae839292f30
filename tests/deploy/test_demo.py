"""deploy/local-federation.sh: three nodes on loopback that federate with each other.

Runs the script as a sysadmin would (with a temporary base directory, free ports and the binary
under test), follows across nodes with Mastodon.py, checks that a post reaches the follower's
home timeline on another node, and that `stop` ends every node with exit status 0. The tests
run in file order and share one demo.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from mastodon import Mastodon

from deploy_support import DEPLOY, FIKA_BIN, free_ports

SCRIPT = DEPLOY / "local-federation.sh"
NODES = ["hq", "sales", "engineering"]
USERS = {"hq": "ada", "sales": "bob", "engineering": "cy"}
SCOPES = ["read", "write", "follow"]
FEDERATION_TIMEOUT = 15
HTTP_TIMEOUT = 30


class Demo:
    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="fika-demo-test-"))
        self.ports = dict(zip(NODES, free_ports(3)))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FIKA_") and k != "RUST_LOG"}
        self.env.update(
            FIKA_BIN=FIKA_BIN,
            FIKA_DEMO_PORTS=" ".join(str(self.ports[n]) for n in NODES),
            FIKA_DEMO_PASSWORD_GRANT="1",
        )
        self._apps: dict[str, tuple[str, str]] = {}

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(SCRIPT), *args, str(self.base)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def url(self, node: str) -> str:
        return f"http://127.0.0.1:{self.ports[node]}"

    def domain(self, node: str) -> str:
        return f"127.0.0.1:{self.ports[node]}"

    def credentials(self, node: str, kind: str = "user") -> dict[str, str]:
        text = (self.base / node / kind).read_text()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def logs(self) -> str:
        out = []
        for n in NODES:
            path = self.base / n / "fika.log"
            if path.exists():
                tail = "\n".join(path.read_text(errors="replace").splitlines()[-40:])
                out.append(f"--- {n} ({path}) ---\n{tail}")
        return "\n".join(out)

    def login(self, node: str) -> Mastodon:
        if node not in self._apps:
            self._apps[node] = Mastodon.create_app(
                "fika demo test", scopes=SCOPES, api_base_url=self.url(node), request_timeout=HTTP_TIMEOUT
            )
        client_id, client_secret = self._apps[node]
        api = Mastodon(
            client_id=client_id, client_secret=client_secret, api_base_url=self.url(node), request_timeout=HTTP_TIMEOUT
        )
        creds = self.credentials(node)
        api.log_in(creds["email"], creds["password"], scopes=SCOPES, allow_http=True)
        return api

    def kill_leftovers(self) -> None:
        """Last resort after a failed test: SIGKILL any node still running."""
        for n in NODES:
            pidfile = self.base / f"{n}.pid"
            try:
                os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
            except (OSError, ValueError):
                pass


def wait_for(predicate, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture(scope="module")
def demo():
    if not os.access(FIKA_BIN, os.X_OK):
        pytest.fail(f"no fika binary at {FIKA_BIN}: set FIKA_BIN or build it")
    d = Demo()
    started = d.run("start")
    d.start_output = started
    try:
        assert started.returncode == 0, (
            f"local-federation.sh start exited {started.returncode}\n"
            f"stdout:\n{started.stdout}\nstderr:\n{started.stderr}\n{d.logs()}"
        )
        yield d
    finally:
        d.run("stop", timeout=90)
        d.kill_leftovers()
        shutil.rmtree(d.base, ignore_errors=True)


def test_start_prints_how_to_log_in(demo):
    out = demo.start_output.stdout
    for node in NODES:
        user = demo.credentials(node)
        admin = demo.credentials(node, "admin")
        assert user["username"] == USERS[node]
        assert f"In a Mastodon app, log in to: {demo.url(node)}/" in out
        assert f"staff:  {user['username']} (email {user['email']}) password {user['password']}" in out
        assert f"admin:  {admin['username']} password {admin['password']}" in out
        assert (demo.base / f"{node}.pid").read_text().strip().isdigit()
        assert requests.get(demo.url(node) + "/ready", timeout=HTTP_TIMEOUT).status_code == 200
        # The node's name and allowlist come from the script.
        instance = requests.get(demo.url(node) + "/api/v1/instance", timeout=HTTP_TIMEOUT).json()
        assert instance.get("title") == node, instance
    status = demo.run("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert len(re.findall(r"^\S+: running \(pid \d+\) on http://\S+, ready$", status.stdout, re.M)) == 3, status.stdout


def test_post_on_hq_reaches_follower_on_sales(demo):
    ada = demo.login("hq")
    bob = demo.login("sales")
    ada_acct = f"ada@{demo.domain('hq')}"

    results = bob.search_v2(ada_acct, resolve=True)
    found = [a for a in results["accounts"] if a["acct"] == ada_acct]
    assert found, f"sales could not resolve {ada_acct}: {results}\n{demo.logs()}"
    remote_ada = found[0]

    bob.account_follow(remote_ada["id"])
    following = wait_for(
        lambda: bob.account_relationships(remote_ada["id"])[0]["following"], FEDERATION_TIMEOUT
    )
    assert following, f"bob's follow of {ada_acct} was not accepted within {FEDERATION_TIMEOUT}s\n{demo.logs()}"

    me = ada.account_verify_credentials()
    followers = [a["acct"] for a in ada.account_followers(me["id"])]
    assert f"bob@{demo.domain('sales')}" in followers, followers

    marker = f"fika demo {time.time_ns()}"
    posted = ada.status_post(f"Hello from HQ: {marker}", visibility="public")

    def arrived():
        return [s for s in bob.timeline_home() if s["uri"] == posted["uri"]]

    got = wait_for(arrived, FEDERATION_TIMEOUT)
    assert got, f"ada's post did not reach bob's home timeline within {FEDERATION_TIMEOUT}s\n{demo.logs()}"
    assert marker in got[0]["content"]
    assert got[0]["account"]["acct"] == ada_acct


def test_start_again_leaves_running_nodes_alone(demo):
    before = {n: (demo.base / f"{n}.pid").read_text() for n in NODES}
    creds = {n: demo.credentials(n) for n in NODES}
    again = demo.run("start")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("is already running") == 3, again.stdout
    assert "created" not in again.stdout
    assert {n: (demo.base / f"{n}.pid").read_text() for n in NODES} == before
    assert {n: demo.credentials(n) for n in NODES} == creds


def test_stop_ends_every_node_with_status_0(demo):
    pids = {n: int((demo.base / f"{n}.pid").read_text()) for n in NODES}
    stopped = demo.run("stop", timeout=90)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr + demo.logs()
    for node in NODES:
        assert f"{node}: stopped, exit status 0" in stopped.stdout, stopped.stdout
        with pytest.raises(ProcessLookupError):
            os.kill(pids[node], 0)
    status = demo.run("status")
    assert status.returncode == 3, status.stdout
    assert status.stdout.count("stopped (last exit status 0)") == 3, status.stdout


def test_restart_reuses_data_and_creates_no_second_user(demo):
    creds = {n: demo.credentials(n) for n in NODES}
    again = demo.run("start")
    assert again.returncode == 0, again.stdout + again.stderr + demo.logs()
    assert "created" not in again.stdout, again.stdout
    assert {n: demo.credentials(n) for n in NODES} == creds
    # The same password still logs in, and hq has exactly its admin and ada.
    demo.login("hq").account_verify_credentials()
    listed = subprocess.run(
        [FIKA_BIN, "admin", "list-users"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("FIKA_")}, "FIKA_DATA_DIR": str(demo.base / "hq")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[1] for line in listed.stdout.splitlines()[1:] if line.strip()]
    assert sorted(names) == ["ada", "admin"], listed.stdout
    # bob still follows ada across the restart.
    bob = demo.login("sales")
    ada = bob.account_lookup(f"ada@{demo.domain('hq')}")
    assert bob.account_relationships(ada["id"])[0]["following"]
    stopped = demo.run("stop", timeout=90)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert stopped.stdout.count("exit status 0") == 3, stopped.stdout
