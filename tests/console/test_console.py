"""The web console in a real browser: Debian's Chromium driven by playwright-core (console.mjs),
against two real nodes that are each other's `org` peers (A runs the console, B's member reads
and dismisses the announcement). The nodes come from the client suite's harness
(tests/clients/conftest.py), so FIKA_TEST_BACKEND picks SQLite or PostgreSQL as there."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load_client_harness():
    path = HERE.parent / "clients" / "conftest.py"
    spec = importlib.util.spec_from_file_location("fika_client_harness_console", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_client_harness()
SHOTS = Path(os.environ.get("FIKA_TEST_CONSOLE_SHOTS", Path.home() / ".cache/fika/console-screenshots"))


@pytest.fixture(scope="module")
def nodes():
    ports = [harness.free_port(), harness.free_port()]
    allowed = "[" + ", ".join(f"127.0.0.1:{p}" for p in ports) + "]"
    env = {
        "FIKA_FEDERATION_ALLOWED_DOMAINS": allowed,
        "FIKA_FEDERATION_ALLOW_HTTP": "true",
        "FIKA_FEDERATION_RETRY_BASE_SECONDS": "1",
        "FIKA_FEDERATION_BACKFILL_STATUSES": "0",
        "FIKA_INSIGHTS_INTERVAL_SECONDS": "1",
    }
    started = []
    try:
        for p, name in zip(ports, ["hq", "sales"]):
            started.append(harness.start_node(port=p, extra_env={**env, "FIKA_SERVER_NODE_NAME": name}))
        yield started
    finally:
        for n in started:
            harness.finish_node(n)


def test_an_admin_runs_the_node_from_the_console(nodes):
    a, b = nodes
    member = b.user("c_member")
    # Five of B's staff follow one of A's: B reports 5 interactions towards A, which A's
    # insights matrix shows (five is the threshold, so the cell is not left out).
    author = a.user("c_author")
    for i in range(5):
        fan = b.user(f"c_fan{i}")
        found = fan.api.account_search(f"{author.username}@{a.domain}", resolve=True)
        assert found, f"{author.username}@{a.domain} not found from B"
        fan.api.account_follow(found[0]["id"])
    backend = os.environ.get("FIKA_TEST_BACKEND", "sqlite")
    shots = SHOTS / backend
    run = subprocess.run(
        ["node", str(HERE / "console.mjs")],
        cwd=HERE,
        env={
            **os.environ,
            "CONSOLE_BASE": a.base,
            "CONSOLE_USER": "admin",
            "CONSOLE_PASSWORD": a.admin_password,
            "PEER_DOMAIN": b.domain,
            "PEER_BASE": b.base,
            "PEER_TOKEN": member.token,
            "NEW_PEER": "social.new-site.example",
            "EXPECT_CELL": "5",
            "SHOTS": str(shots),
        },
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, f"console.mjs failed:\n{run.stdout}\n{run.stderr}"
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert "error" not in report, report.get("error")
    assert report["consoleErrors"] == [], report["consoleErrors"]
    assert report["peerAdded"] and report["previewShown"], report
    assert report["readCountChanged"], (
        f"before {report['chartBefore']}, after {report['chartAfter']}\n"
        f"A's log:\n{a.log()[-3000:]}\nB's log:\n{b.log()[-3000:]}"
    )
    matrix = report["insightsMatrix"]
    assert matrix and matrix["cells"][0] == "5", (matrix, f"B's log:\n{b.log()[-3000:]}")
    assert matrix["head"][1] == a.domain, matrix
    # The matrix spans A, B and the peer added from the console (an org peer too, not reported).
    nodes = matrix["head"][1:]
    assert set(nodes) == {a.domain, b.domain, "social.new-site.example"}, nodes
    assert report["insightsLines"] == 4 and report["insightsHeatCells"] == len(nodes) ** 2, report
    csv = report["insightsCsv"]
    assert csv["status"] == 200 and csv["type"].startswith("text/csv"), csv
    lines = csv["body"].splitlines()
    assert lines[0] == "from \\ to," + ",".join(nodes), lines
    row_b = next(line for line in lines if line.startswith(b.domain + ",")).split(",")
    assert row_b[1] == "5" and row_b[2:] == ["", ""], lines
    assert report["loggedOut"]
    assert report["oauthStyled"], "the login page apps open lacks the console's stylesheet"
    for page, seen in report["pages"].items():
        assert seen["status"] == 200, (page, seen)
        assert seen["lang"] == page.split(".")[1], (page, seen)
    for name in ["login", "federation", "announcements-after", "audit-sv", "accounts-es", "federation-phone",
                 "insights-en", "insights-sv", "insights-phone"]:
        assert (shots / f"{name}.png").stat().st_size > 5000, name
    # The console's changes are in A's audit log, as any other admin action.
    entries = harness.raw(a, "GET", "/api/v1/admin/federation/audit", token=admin_token(a)).json()
    actions = {e["action"] for e in entries}
    assert {"allow", "announcement.publish"} <= actions, actions


def admin_token(node) -> str:
    """A token of the node's first admin with the admin scopes (an app registered for them)."""
    from mastodon import Mastodon

    scopes = harness.SCOPES + ["admin:read", "admin:write"]
    client_id, client_secret = Mastodon.create_app(
        "fika console tests", scopes=scopes, redirect_uris=harness.OOB, api_base_url=node.base
    )
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base)
    m.log_in("admin", node.admin_password, scopes=scopes, allow_http=True)
    return m.access_token
