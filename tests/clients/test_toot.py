"""The toot command-line client (PyPI `toot`), logged in with `toot login_cli`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import make_png

TOOT = str(Path(sys.executable).parent / "toot") if (Path(sys.executable).parent / "toot").exists() else shutil.which("toot")


@pytest.fixture(scope="module")
def toot_home(tmp_path_factory):
    return tmp_path_factory.mktemp("toot-home")


def toot(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIKA_", "TOOT_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), NO_COLOR="1", COLUMNS="120", TERM="dumb")
    out = subprocess.run([TOOT, *args], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if check:
        assert out.returncode == 0, f"toot {' '.join(args)} exited {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def logged_in(node, toot_home):
    assert TOOT, "the toot command is not installed"
    user = node.create_user("tooter")
    out = toot(toot_home, "login_cli", "-i", node.base, "-e", user.email, "-p", user.password)
    assert "Successfully logged in" in out.stdout, out.stdout
    config = json.loads((toot_home / ".config" / "toot" / "config.json").read_text())
    assert config["active_user"] == f"tooter@{node.domain}", config
    # The same account through Mastodon.py, to check what toot did.
    user.api = node.login(user)
    user.account = dict(user.api.account_verify_credentials())
    return user


def test_login_with_wrong_password_fails(node, tmp_path):
    user = node.create_user("tooter_wrong")
    out = toot(tmp_path, "login_cli", "-i", node.base, "-e", user.email, "-p", "wrong", check=False)
    assert out.returncode != 0
    assert "Login failed" in out.stdout + out.stderr


def test_whoami(logged_in, toot_home):
    out = toot(toot_home, "whoami", "--json")
    me = json.loads(out.stdout)
    assert me["username"] == "tooter" and me["acct"] == "tooter"
    out = toot(toot_home, "whoami")
    assert "@tooter" in out.stdout


def test_post_and_timeline(logged_in, toot_home):
    out = toot(toot_home, "post", "hello from toot #tootling", "--json")
    status = json.loads(out.stdout)
    assert "hello from toot" in status["content"]
    again = logged_in.api.status(status["id"])
    assert again["account"]["id"] == logged_in.account["id"]

    out = toot(toot_home, "post", "a quieter one", "-v", "unlisted", "-p", "toot cw", "--json")
    quiet = json.loads(out.stdout)
    assert quiet["visibility"] == "unlisted" and quiet["spoiler_text"] == "toot cw"

    png = toot_home / "toot.png"
    png.write_bytes(make_png(40, 30, seed=9))
    out = toot(toot_home, "post", "picture from toot", "-m", str(png), "-d", "described by toot", "--json")
    pictured = json.loads(out.stdout)
    [att] = logged_in.api.status(pictured["id"])["media_attachments"]
    assert att["type"] == "image" and att["description"] == "described by toot"

    out = toot(toot_home, "timeline", "--once")
    assert "hello from toot" in out.stdout, out.stdout
    out = toot(toot_home, "timeline", "--public", "--local", "--once")
    assert "hello from toot" in out.stdout, out.stdout
    out = toot(toot_home, "timeline", "--tag", "tootling", "--once")
    assert "hello from toot" in out.stdout, out.stdout


def test_follow_notifications_and_search(node, logged_in, toot_home):
    friend = node.user("toot_friend")
    out = toot(toot_home, "follow", "toot_friend")
    assert "toot_friend" in out.stdout, out.stdout
    [rel] = logged_in.api.account_relationships(friend.id)
    assert rel["following"] is True

    out = toot(toot_home, "post", "please favourite this", "--json")
    status = json.loads(out.stdout)
    friend.api.status_favourite(status["id"])
    friend.api.status_post("@tooter hello there")

    out = toot(toot_home, "notifications", "--json")
    kinds = {(n["type"], n["account"]["acct"]) for n in json.loads(out.stdout)}
    assert {("favourite", "toot_friend"), ("mention", "toot_friend")} <= kinds, kinds
    out = toot(toot_home, "notifications")
    assert "toot_friend" in out.stdout, out.stdout
    out = toot(toot_home, "notifications", "--type", "mention", "--json")
    assert {n["type"] for n in json.loads(out.stdout)} == {"mention"}

    out = toot(toot_home, "search", "toot_friend", "--json")
    found = json.loads(out.stdout)
    assert "toot_friend" in [a["acct"] for a in found["accounts"]]
    out = toot(toot_home, "search", "toot_friend")
    assert "toot_friend" in out.stdout, out.stdout
    out = toot(toot_home, "search", "tootling", "--type", "hashtags", "--json")
    assert [t["name"].lower() for t in json.loads(out.stdout)["hashtags"]] == ["tootling"]

    out = toot(toot_home, "notifications", "--clear")
    assert logged_in.api.notifications() == []
