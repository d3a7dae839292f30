"""Reports and moderation with Mastodon.py: staff report a colleague's post, moderators hear
of it (`admin.report`), list, assign, resolve and reopen it through the admin API, act on the
account (silence, sensitive, disable, suspend and their undoing) with every action in the
audit log, and the reporter is told when it is resolved. Across two nodes a report against a
B account is forwarded to B's moderators, without naming the reporter. Bad input is refused
with nothing written."""

from __future__ import annotations

import pytest
from mastodon import Mastodon, MastodonAPIError

from conftest import HTTP_TIMEOUT, OOB, SCOPES, finish_node, raw, start_node, wait_for

ADMIN_SCOPES = SCOPES + ["admin:read", "admin:write"]


def staff_login(node, user) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "fika moderation tests", scopes=ADMIN_SCOPES, redirect_uris=OOB, api_base_url=node.base
    )
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base,
                 request_timeout=HTTP_TIMEOUT)
    m.log_in(user.email, user.password, scopes=ADMIN_SCOPES, allow_http=True)
    return m


def moderator(node, name):
    mod = node.create_user(name)
    out = node.cli("admin", "set-role", mod.username, "moderator")
    assert out.returncode == 0, out.stderr
    mod.api = staff_login(node, mod)
    mod.token = mod.api.access_token
    mod.account = dict(mod.api.account_verify_credentials())
    return mod


@pytest.fixture(scope="module")
def office():
    n = start_node(extra_env={"FIKA_INSTANCE_RULES": "[Be kind, Nothing confidential]"})
    try:
        yield n
    finally:
        finish_node(n)


def refused(call) -> tuple[int, str]:
    with pytest.raises(MastodonAPIError) as e:
        call()
    return e.value.args[1], str(e.value.args[-1])


def test_report_review_resolve(office):
    mod = moderator(office, "rp_mod")
    reporter = office.user("rp_reporter")
    offender = office.user("rp_offender")
    post = offender.api.status_post("Something unkind")
    report = reporter.api.report(offender.id, status_ids=[post["id"]], comment="Not how we talk",
                                 rule_ids=[1])
    assert report["category"] == "violation" and report["action_taken"] is False
    assert report["status_ids"] == [post["id"]] and report["rule_ids"] == ["1"]
    assert report["target_account"]["id"] == offender.id and report["forwarded"] is False

    # The moderator hears of it, and sees it in the admin API with the post and the rule.
    notes = wait_for(lambda: [n for n in mod.api.notifications() if n["type"] == "admin.report"])
    assert notes and notes[0]["report"]["id"] == report["id"]
    listed = mod.api.admin_reports()
    assert [r["id"] for r in listed] == [report["id"]]
    full = mod.api.admin_report(report["id"])
    assert full["account"]["id"] == reporter.id and full["target_account"]["id"] == offender.id
    assert [s["id"] for s in full["statuses"]] == [post["id"]]
    assert full["rules"][0]["text"] == "Be kind" and full["comment"] == "Not how we talk"
    assert mod.api.admin_report_assign(report["id"])["assigned_account"]["id"] == mod.id
    assert mod.api.admin_report_unassign(report["id"])["assigned_account"] is None
    r = raw(office, "PUT", f"/api/v1/admin/reports/{report['id']}", token=mod.token, json={"category": "spam"})
    assert r.status_code == 200 and r.json()["category"] == "spam"

    resolved = mod.api.admin_report_resolve(report["id"])
    assert resolved["action_taken"] is True and resolved["action_taken_by_account"]["id"] == mod.id
    assert mod.api.admin_reports() == []
    assert [r["id"] for r in mod.api.admin_reports(resolved=True)] == [report["id"]]
    told = wait_for(lambda: [n for n in reporter.api.notifications() if n["type"] == "report_resolved"])
    assert told and told[0]["report"]["id"] == report["id"] and told[0]["report"]["action_taken"] is True
    assert mod.api.admin_report_reopen(report["id"])["action_taken"] is False
    assert [r["id"] for r in mod.api.admin_reports()] == [report["id"]]

    # Every action is in the audit log.
    admin = office.create_user("rp_admin")
    assert office.cli("admin", "set-role", admin.username, "admin").returncode == 0
    audit = raw(office, "GET", "/api/v1/admin/federation/audit", token=staff_login(office, admin).access_token)
    actions = [e["action"] for e in audit.json() if f"report {report['id']}" in e.get("detail", "")]
    for a in ["report.assign", "report.unassign", "report.update", "report.resolve", "report.reopen"]:
        assert a in actions, (a, actions)


def test_moderating_an_account(office):
    mod = moderator(office, "rm_mod")
    reporter = office.user("rm_reporter")
    loud = office.user("rm_loud")
    follower = office.user("rm_follower")
    stranger = office.user("rm_stranger")
    follower.api.account_follow(loud.id)
    post = loud.api.status_post("Buy my stuff")
    report = reporter.api.report(loud.id, status_ids=[post["id"]], category="spam")

    def on_public(user):
        return [s for s in user.api.timeline_public() if s["id"] == post["id"]]

    assert on_public(stranger)
    mod.api.admin_account_moderate(loud.id, action="silence", report_id=report["id"], text="spam")
    # Limited: gone from the public timeline except for followers; the report is resolved.
    assert on_public(stranger) == [] and on_public(follower)
    assert mod.api.admin_account(loud.id)["silenced"] is True
    assert mod.api.admin_report(report["id"])["action_taken"] is True
    assert [a["id"] for a in mod.api.admin_accounts_v2(status="silenced")] == [loud.id]
    # The Account entity says so, as apps show it; and a limited account's mention of someone
    # who does not follow it waits in a request (the default notification policy).
    assert stranger.api.account(loud.id)["limited"] is True
    loud.api.status_post(f"@{stranger.username} have you seen my offer?")
    assert [r["account"]["id"] for r in stranger.api.notification_requests()] == [loud.id]
    assert stranger.api.notifications(types=["mention"]) == []
    mod.api.admin_account_unsilence(loud.id)
    assert on_public(stranger)
    assert stranger.api.account(loud.id).get("limited") in (None, False)

    # Sensitive: media posts become sensitive, now and later.
    mod.api.admin_account_moderate(loud.id, action="sensitive")
    assert mod.api.admin_account(loud.id)["sensitized"] is True
    mod.api.admin_account_unsensitive(loud.id)
    assert mod.api.admin_account(loud.id)["sensitized"] is False

    # Disabled: the login and every token stop working until enabled.
    mod.api.admin_account_moderate(loud.id, action="disable")
    r = raw(office, "GET", "/api/v1/accounts/verify_credentials", token=loud.token)
    assert r.status_code == 401
    with pytest.raises(Exception):
        office.login(loud)
    assert mod.api.admin_account(loud.id)["disabled"] is True
    mod.api.admin_account_enable(loud.id)
    again = office.login(loud)
    assert again.account_verify_credentials()["id"] == loud.id

    # Suspended: the profile is gone for others until lifted.
    mod.api.admin_account_moderate(loud.id, action="suspend")
    r = raw(office, "GET", f"/api/v1/accounts/{loud.id}", token=stranger.token)
    assert r.status_code == 404
    assert mod.api.admin_account(loud.id)["suspended"] is True
    mod.api.admin_account_unsuspend(loud.id)
    assert stranger.api.account(loud.id)["id"] == loud.id

    assert loud.id in [a["id"] for a in mod.api.admin_accounts_v2(origin="local", username="rm_lo")]
    assert mod.id in [a["id"] for a in mod.api.admin_accounts_v2(permissions="staff")]


def test_bad_reports_and_actions_are_refused(office):
    mod = moderator(office, "rb_mod")
    user = office.user("rb_user")
    other = office.user("rb_other")
    theirs = other.api.status_post("theirs")
    mine = user.api.status_post("mine")
    cases = [
        ({"account_id": user.id}, "yourself"),
        ({"account_id": other.id, "category": "rude"}, "Category"),
        ({"account_id": other.id, "rule_ids": ["9"]}, "Rule"),
        ({"account_id": other.id, "comment": "x" * 1001}, "too long"),
        ({"account_id": other.id, "status_ids": [mine["id"]]}, "reported account's"),
    ]
    for body, message in cases:
        r = raw(office, "POST", "/api/v1/reports", token=user.token, json=body)
        assert r.status_code == 422 and message in r.json()["error"], (body, r.text)
    r = raw(office, "POST", "/api/v1/reports", token=user.token, json={"account_id": "99999999"})
    assert r.status_code == 404
    assert mod.api.admin_reports(account_id=user.id) == []
    # Only moderators see the admin API; and a moderator cannot act on itself or an admin.
    r = raw(office, "GET", "/api/v1/admin/reports", token=user.token)
    assert r.status_code == 403
    code, why = refused(lambda: mod.api.admin_account_moderate(mod.id, action="suspend"))
    assert code == 422 and "yourself" in why
    r = raw(office, "POST", f"/api/v1/admin/accounts/{other.id}/action", token=mod.token, json={"type": "explode"})
    assert r.status_code == 422 and "type" in r.json()["error"]
    assert mod.api.admin_account(other.id)["suspended"] is False
    r = raw(office, "POST", f"/api/v1/admin/accounts/{other.id}/approve", token=mod.token)
    assert r.status_code == 403 and "pending" in r.json()["error"]
    assert theirs  # the colleague's post stays untouched


def test_a_report_is_forwarded_to_the_accounts_node(peers):
    a, b = peers
    reporter = a.user("rf_reporter")
    offender = b.user("rf_offender")
    b_mod = moderator(b, "rf_bmod")
    post = offender.api.status_post("Posted on B")
    found = reporter.api.search_v2(f"rf_offender@{b.domain}", resolve=True, result_type="accounts")
    offender_on_a = found["accounts"][0]
    seen = reporter.api.search_v2(post["uri"], resolve=True, result_type="statuses")["statuses"]
    assert seen, "the post is not found on A"
    report = reporter.api.report(offender_on_a["id"], status_ids=[seen[0]["id"]], comment="Please look",
                                 forward=True)
    assert report["forwarded"] is True

    def on_b():
        return [r for r in b_mod.api.admin_reports() if r["target_account"]["id"] == offender.id]

    arrived = wait_for(on_b, timeout=20)
    assert arrived, "the report did not reach B"
    got = arrived[0]
    assert got["comment"] == "Please look" and [s["id"] for s in got["statuses"]] == [post["id"]]
    assert got["forwarded"] is True
    # Filed by A's node, not by the person who reported.
    assert got["account"]["username"] != "rf_reporter" and got["account"]["domain"] == a.domain
    assert wait_for(lambda: [n for n in b_mod.api.notifications() if n["type"] == "admin.report"])
