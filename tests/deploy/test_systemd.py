"""deploy/systemd/fika.service: `systemd-analyze verify` and an offline security review.

Both run against a temporary root directory holding the unit, a stand-in /usr/local/bin/fika
(verify checks that ExecStart is executable) and a copy of the system's own units (verify
resolves the default dependencies, such as sysinit.target, in that root). Neither needs a
running systemd, so they run in containers too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy_support import DEPLOY, tool

UNIT = DEPLOY / "systemd" / "fika.service"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    if not SYSTEM_UNITS.is_dir():
        pytest.fail(f"{SYSTEM_UNITS} is missing: the systemd package is not installed")
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, tmp_path / "usr/lib/systemd/system", symlinks=True)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, tmp_path / "etc/systemd/system/fika.service")
    fika = tmp_path / "usr/local/bin/fika"
    fika.parent.mkdir(parents=True)
    fika.write_text("#!/bin/sh\nexit 0\n")
    fika.chmod(0o755)
    return tmp_path


def analyze(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("systemd-analyze"), *args, f"--root={root}", str(root / "etc/systemd/system/fika.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_unit_verifies_without_any_warning(root):
    out = analyze(root, "verify")
    # verify exits 0 on an unknown or misspelt key and only warns: any output is a failure.
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), (
        f"systemd-analyze verify exited {out.returncode}:\n{out.stdout}{out.stderr}"
    )


def test_verify_catches_a_misspelt_key(root):
    """The check above is only worth something if verify notices mistakes here."""
    unit = root / "etc/systemd/system/fika.service"
    unit.write_text(unit.read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    out = analyze(root, "verify")
    assert "Unknown key" in out.stderr, out.stderr


def test_security_exposure_is_low(root):
    out = analyze(root, "security", "--offline=true", "--no-pager")
    assert out.returncode == 0, out.stderr
    m = re.search(r"Overall exposure level for fika\.service: ([0-9.]+)", out.stdout)
    assert m, out.stdout[-2000:]
    # systemd rates 0-10; below 2 is "OK" (an unhardened service scores 9.6).
    assert float(m.group(1)) < 2.0, out.stdout


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_unit_runs_the_node_as_asked():
    d = directives(UNIT.read_text())
    one = {k: v[-1] for k, v in d.items()}
    assert one["ExecStart"] == "/usr/local/bin/fika --config /etc/fika/config.toml serve"
    assert one["User"] == "fika" and one["Group"] == "fika"
    assert one["EnvironmentFile"] == "-/etc/fika/fika.env"
    assert one["StateDirectory"] == "fika"
    assert one["Restart"] == "on-failure"
    assert one["KillSignal"] == "SIGTERM"
    assert int(one["TimeoutStopSec"].rstrip("s")) >= 20, "in-flight deliveries take up to ~15 s"
    assert one["ProtectSystem"] == "strict" and "/var/lib/fika" in one["ReadWritePaths"]
    assert one["CapabilityBoundingSet"] == ""
    assert one["UMask"] == "0077"
    assert set(one["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert "@system-service" in d["SystemCallFilter"]
    for flag in [
        "NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
        "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "RestrictNamespaces",
        "LockPersonality", "MemoryDenyWriteExecute",
    ]:
        assert one.get(flag) == "true", flag
