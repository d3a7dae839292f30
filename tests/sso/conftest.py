"""Fixtures for the company-login suite; the harness itself is sso_harness.py."""

from __future__ import annotations

from typing import Callable

import pytest

from sso_harness import Directory, OpenIdProvider, harness

_logs: list[tuple[str, Callable[[], str]]] = []


def start_node(extra_env: dict[str, str], port=None):
    n = harness.start_node(port=port, extra_env=extra_env)
    harness._live_nodes.append(n)
    _logs.append((f"fika {n.domain}", n.log))
    return n


def finish_node(n) -> None:
    _logs[:] = [(t, l) for t, l in _logs if t != f"fika {n.domain}"]
    harness.finish_node(n)


@pytest.fixture(scope="module")
def oidc():
    """An OpenID provider and a fika node that logs staff in through it."""
    port = harness.free_port()
    provider = OpenIdProvider(f"http://127.0.0.1:{port}/oauth/oidc/callback")
    _logs.append(("OpenID provider", provider.log))
    try:
        node = start_node(provider.env(), port=port)
        try:
            yield provider, node
        finally:
            finish_node(node)
    finally:
        _logs.clear()
        provider.stop()


@pytest.fixture(scope="module")
def ldap():
    """slapd with the test directory and a fika node that logs staff in against it, local
    passwords off except for the break-glass admin (the node's first admin)."""
    directory = Directory()
    _logs.append(("slapd", lambda: directory.log_path.read_text(errors="replace")))
    try:
        env = {
            **directory.env(),
            "FIKA_AUTH_LOCAL_PASSWORDS": "false",
            "FIKA_AUTH_BREAK_GLASS_ADMIN": "admin",
        }
        node = start_node(env)
        try:
            yield directory, node
        finally:
            finish_node(node)
    finally:
        _logs.clear()
        directory.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the tails of the node's and the providers' logs."""
    report = yield
    if report.failed:
        for title, log in list(_logs):
            report.sections.append((f"{title} (tail)", "\n".join(log().splitlines()[-60:])))
    return report
