"""deploy/container: the Dockerfile and compose.yaml.

hadolint lints the Dockerfile and yamllint the compose file; the settings the image and the
compose file give fika are checked with `fika config check`; the image is built only where a
Docker engine answers (`docker info`), which is skipped otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from deploy_support import DEPLOY, FIKA_BIN, REPO, tool

DOCKERFILE = DEPLOY / "container" / "Dockerfile"
COMPOSE = DEPLOY / "container" / "compose.yaml"


def test_hadolint_passes():
    out = subprocess.run(
        [tool("hadolint", in_tools_venv=True), "--no-color", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_yamllint_passes():
    rules = "{extends: default, rules: {line-length: {max: 100}, document-start: disable}}"
    out = subprocess.run(
        [tool("yamllint", in_tools_venv=True), "-s", "-d", rules, str(COMPOSE)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def compose() -> dict:
    python = tool("python", in_tools_venv=True)  # PyYAML comes with yamllint
    out = subprocess.run(
        [python, "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", str(COMPOSE)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(out.stdout)


def dockerfile_env() -> dict[str, str]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(re.findall(r"(\w+)=(\S+)", line))
    return env


def test_dockerfile_shape():
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(froms) == 2 and froms[0].startswith("rust:") and froms[1].startswith("debian:"), froms
    assert re.search(r"^USER\s+(?!0\b|root\b)\S+", text, re.M), "the runtime must not run as root"
    assert re.search(r'^VOLUME\s+\[?"?/var/lib/fika', text, re.M)
    assert re.search(r"^EXPOSE\s+8080\b", text, re.M)
    assert re.search(r"^HEALTHCHECK\b.*?/health", re.sub(r"\\\n", " ", text), re.M | re.S)
    for needed in ["libssl-dev", "pkg-config", "ca-certificates", "libssl3"]:
        assert needed in text, needed
    # Every path the build copies exists in the repository.
    for src in re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", text, re.M):
        for part in src.split():
            assert (REPO / part).exists(), f"COPY {part}: not in the repository"


def fika_config_check(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIKA_")}
    env = {**base, **env, "FIKA_DATA_DIR": str(tmp_path)}
    return subprocess.run([FIKA_BIN, "config", "check"], env=env, capture_output=True, text=True, timeout=60)


def test_image_settings_need_the_domain_and_are_valid_with_it(tmp_path):
    if not os.access(FIKA_BIN, os.X_OK):
        pytest.fail(f"no fika binary at {FIKA_BIN}")
    env = dockerfile_env()
    assert env["FIKA_SERVER_LISTEN"] == "0.0.0.0:8080"
    without = fika_config_check(env, tmp_path)
    assert without.returncode == 2 and "server.domain" in without.stderr, without.stderr
    with_domain = fika_config_check({**env, "FIKA_SERVER_DOMAIN": "social.hq.example.com"}, tmp_path)
    assert with_domain.returncode == 0, with_domain.stderr


def test_compose_runs_one_node_with_postgres_15(tmp_path):
    c = compose()
    services = c["services"]
    assert set(services) == {"db", "fika"}
    assert services["db"]["image"].startswith("postgres:15")
    fika = services["fika"]
    assert fika["build"]["dockerfile"] == "deploy/container/Dockerfile"
    assert (DEPLOY / "container" / fika["build"]["context"] / "Cargo.toml").exists()
    env = fika["environment"]
    assert env["FIKA_DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["FIKA_DATABASE_URL"]
    assert "FIKA_SERVER_DOMAIN" in env
    assert fika["depends_on"]["db"]["condition"] == "service_healthy"
    assert any(v.endswith(":/var/lib/fika") for v in fika["volumes"])
    assert int(fika["stop_grace_period"].rstrip("s")) >= 20
    # What compose passes is a valid fika configuration (variables filled in as .env would).
    filled = {
        k: re.sub(r"\$\{(\w+)(?::[-?][^}]*)?\}", lambda m: {"FIKA_DB_PASSWORD": "pw", "FIKA_SERVER_DOMAIN": "social.hq.example.com"}.get(m.group(1), m.group(0)), str(v))
        for k, v in env.items()
    }
    filled = {k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", v) for k, v in filled.items()}
    checked = fika_config_check({**dockerfile_env(), **filled}, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert 'domain = "social.hq.example.com"' in checked.stdout
    # (config check masks the password)
    assert 'url = "postgres://fika:***@db:5432/fika"' in checked.stdout, checked.stdout


def test_image_builds_where_a_docker_engine_runs():
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("no Docker engine answers here: the image was linted, not built")
    out = subprocess.run(
        [docker, "build", "-f", str(DOCKERFILE), "-t", "fika:deploy-test", str(REPO)],
        capture_output=True, text=True, timeout=3600,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
