"""Shared helpers for the deploy checks (tests/deploy): paths, tools, free ports.

scripts/deploy-tests installs what these tests need (nginx, caddy, systemd-analyze from Debian;
hadolint and yamllint into FIKA_DEPLOY_TOOLS) and runs them with the client-test virtualenv.
Run by hand, a check whose tool is missing is skipped with the reason; scripts/deploy-tests sets
FIKA_DEPLOY_REQUIRE_TOOLS=1, which makes a missing tool a failure instead.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEPLOY = REPO / "deploy"

FIKA_BIN = os.environ.get("FIKA_BIN") or str(
    Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache/fika/target") / "debug/fika"
)
TOOLS = Path(os.environ.get("FIKA_DEPLOY_TOOLS") or Path.home() / ".cache/fika/deploy-tools")


def free_ports(n: int) -> list[int]:
    """n distinct free loopback ports (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tool(name: str, *, in_tools_venv: bool = False) -> str:
    """The path of a command-line tool, or skip the test saying which one is missing."""
    path = None
    if in_tools_venv:
        candidate = TOOLS / "bin" / name
        if os.access(candidate, os.X_OK):
            path = str(candidate)
    else:
        path = shutil.which(name) or next(
            (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if os.access(p, os.X_OK)),
            None,
        )
    if path is None:
        where = f"in {TOOLS}/bin" if in_tools_venv else "on PATH"
        message = f"{name} is not installed {where} (scripts/deploy-tests installs it)"
        if os.environ.get("FIKA_DEPLOY_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
