"""Grouped notifications (`/api/v2/notifications`) with Mastodon.py and masto.js: favourites
and reblogs of one status and follows of one day gather into one group with its accounts,
mentions stay single, `grouped_types` limits grouping, a group can be read, listed by account
and dismissed, and `unread_count` counts what came after the read marker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from conftest import JS_DIR, raw


def test_groups_of_favourites_follows_and_single_mentions(node):
    me = node.user("gn_me")
    fans = [node.user(f"gn_fan{i}") for i in range(3)]
    post = me.api.status_post("worth a star")
    for fan in fans:
        fan.api.status_favourite(post["id"])
        fan.api.account_follow(me.id)
    fans[0].api.status_reblog(post["id"])
    mention = fans[1].api.status_post(f"@{me.username} hello")

    page = me.api.grouped_notifications()
    groups = {g["group_key"]: g for g in page["notification_groups"]}
    fav = groups[f"favourite-{post['id']}"]
    assert fav["type"] == "favourite" and fav["notifications_count"] == 3
    assert fav["status_id"] == post["id"]
    assert sorted(fav["sample_account_ids"]) == sorted(f.id for f in fans)
    assert groups[f"reblog-{post['id']}"]["notifications_count"] == 1
    follows = [g for g in page["notification_groups"] if g["type"] == "follow"]
    assert len(follows) == 1 and follows[0]["notifications_count"] == 3
    singles = [g for g in page["notification_groups"] if g["type"] == "mention"]
    assert [g["status_id"] for g in singles] == [mention["id"]]
    assert singles[0]["group_key"].startswith("ungrouped-")
    # The newest group first; the accounts and statuses come once each.
    assert page["notification_groups"][0]["type"] == "mention"
    assert {a["id"] for a in page["accounts"]} == {f.id for f in fans}
    assert sorted(s["id"] for s in page["statuses"]) == sorted({post["id"], mention["id"]})
    # v1 names the same group keys.
    v1 = me.api.notifications()
    assert {n["group_key"] for n in v1 if n["type"] == "favourite"} == {fav["group_key"]}

    ungrouped = me.api.grouped_notifications(grouped_types=["reblog"])
    assert len([g for g in ungrouped["notification_groups"] if g["type"] == "favourite"]) == 3

    one = me.api.grouped_notification(fav["group_key"])
    assert [g["notifications_count"] for g in one["notification_groups"]] == [3]
    assert sorted(a["id"] for a in me.api.grouped_notification_accounts(fav["group_key"])) == sorted(
        f.id for f in fans)

    assert me.api.unread_grouped_notifications_count() == 8
    newest = v1[0]["id"]
    me.api.markers_set(["notifications"], [newest])
    assert me.api.unread_grouped_notifications_count() == 0
    assert me.api.notifications_unread_count()["count"] == 0
    fans[2].api.status_reblog(post["id"])
    assert me.api.unread_grouped_notifications_count() == 1

    me.api.dismiss_grouped_notification(fav["group_key"])
    after = me.api.grouped_notifications()
    assert fav["group_key"] not in [g["group_key"] for g in after["notification_groups"]]
    assert [n for n in me.api.notifications() if n["type"] == "favourite"] == []
    r = raw(node, "GET", f"/api/v2/notifications/{fav['group_key']}", token=me.token)
    assert r.status_code == 404 and "error" in r.json()


def test_masto_js_grouped_notifications(node):
    nodejs = shutil.which("node")
    assert nodejs, "node is not installed"
    me = node.user("gj_me")
    a = node.user("gj_a")
    b = node.user("gj_b")
    post = me.api.status_post("for masto.js")
    a.api.status_favourite(post["id"])
    b.api.status_favourite(post["id"])
    a.api.status_post(f"@{me.username} ping")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIKA_")}
    env.update(FIKA_BASE_URL=node.base, FIKA_TOKEN=me.token, FIKA_STATUS_ID=post["id"])
    out = subprocess.run([nodejs, str(JS_DIR / "masto_grouped.mjs")], cwd=JS_DIR, env=env,
                         capture_output=True, text=True, timeout=90)
    report = f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    assert out.returncode == 0, report
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    assert line, report
    result = json.loads(line[len("RESULT "):])
    # masto.js dismissed the favourites group: it is gone on the node.
    assert result["dismissed"] == f"favourite-{post['id']}"
    assert [n for n in me.api.notifications() if n["type"] == "favourite"] == []
    assert [n["type"] for n in me.api.notifications()] == ["mention"]
