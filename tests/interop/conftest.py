"""Fixtures for the interop suite; the harness itself is interop_harness.py (a plain module, so
that the tests can import it even when pytest also loads tests/clients/conftest.py)."""

from __future__ import annotations

from typing import Callable

import pytest

from interop_harness import Network

_logs: list[tuple[str, Callable[[], str]]] = []


@pytest.fixture(scope="module")
def net():
    n = Network()
    _logs.extend([(f"fika {n.fika.domain}", n.fika.log)] + [(f"peer {p.name} {p.domain}", p.log) for p in n.peers])
    try:
        yield n
    finally:
        _logs.clear()
        code = n.close()
        log = n.fika.log()
        n.fika.db.drop()
        assert code == 0, f"fika serve exited with {code} on SIGTERM; its log:\n{log[-8000:]}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the tails of the node's and the peers' logs."""
    report = yield
    if report.failed:
        for title, log in list(_logs):
            report.sections.append((f"{title} (tail)", "\n".join(log().splitlines()[-60:])))
    return report
