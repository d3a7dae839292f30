"""masto.js (npm `masto`, the library under Phanpy and Elk) driven by a Node script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import JS_DIR, make_png


@pytest.fixture(scope="module")
def user(node):
    return node.user("js_alice")


def test_masto_js(node, user, tmp_path):
    nodejs = shutil.which("node")
    assert nodejs, "node is not installed"
    assert (JS_DIR / "node_modules" / "masto").is_dir(), "run `npm ci` in tests/clients/js (scripts/client-tests does)"
    png = tmp_path / "masto.png"
    png.write_bytes(make_png(32, 24, seed=5))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIKA_")}
    env.update(FIKA_BASE_URL=node.base, FIKA_TOKEN=user.token, FIKA_PNG=str(png))
    out = subprocess.run(
        [nodejs, str(JS_DIR / "masto_smoke.mjs")],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    report = f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    print(out.stdout)
    assert out.returncode == 0, report
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    assert line, report
    result = json.loads(line[len("RESULT "):])
    # What the script did is really on the node.
    assert "hello from masto.js" in user.api.status(result["statusId"])["content"]
    attached = user.api.status(result["mediaStatusId"])["media_attachments"]
    assert [m["id"] for m in attached] == [result["mediaId"]]
    assert "streamed via masto.js" in user.api.status(result["streamedId"])["content"]


def test_masto_js_lists(node, user):
    """js/masto_lists.mjs drives lists with masto.js; what it left is checked here."""
    nodejs = shutil.which("node")
    assert nodejs, "node is not installed"
    member = node.user("js_member")
    other = node.user("js_other")
    user.api.account_follow(member.id)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIKA_")}
    env.update(
        FIKA_BASE_URL=node.base,
        FIKA_TOKEN=user.token,
        FIKA_MEMBER_TOKEN=member.token,
        FIKA_OTHER_TOKEN=other.token,
        FIKA_MEMBER_ID=member.id,
        FIKA_OTHER_ID=other.id,
    )
    out = subprocess.run(
        [nodejs, str(JS_DIR / "masto_lists.mjs")],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    report = f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    print(out.stdout)
    assert out.returncode == 0, report
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    assert line, report
    result = json.loads(line[len("RESULT "):])
    lst = user.api.list(result["listId"])
    # The rename stuck, the refused blank title did not; the refused stranger was never added,
    # and the member was removed.
    assert lst["title"] == "masto.js renamed" and lst["exclusive"] is True
    assert user.api.list_accounts(result["listId"]) == []
    assert user.api.account_lists(other.id) == []
    assert result["postedId"] not in [s["id"] for s in user.api.timeline_list(result["listId"])]
    assert other.api.lists() == []
