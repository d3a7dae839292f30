"""What apps read about a node besides /api/v1/instance, with Mastodon.py: rules, the extended
description, the privacy policy, languages, weekly activity, and the peers it federates with
(for signed-in staff only)."""

from __future__ import annotations

import pytest

from conftest import finish_node, raw, start_node


@pytest.fixture(scope="module")
def configured():
    n = start_node(
        extra_env={
            "FIKA_INSTANCE_RULES": "[Be kind to colleagues, Nothing confidential in public posts]",
            "FIKA_INSTANCE_EXTENDED_DESCRIPTION": "The engineering department's node.",
            "FIKA_INSTANCE_PRIVACY_POLICY": "Posts stay inside the organisation.",
            "FIKA_FEDERATION_ALLOWED_DOMAINS": "[hq.corp.example]",
            "FIKA_FEDERATION_PARTNER_DOMAINS": "[supplier.example]",
        }
    )
    try:
        yield n
    finally:
        finish_node(n)


def test_rules_description_policy_languages(configured):
    user = configured.user("i_reader")
    rules = user.api.instance_rules()
    assert [r["text"] for r in rules] == ["Be kind to colleagues", "Nothing confidential in public posts"]
    assert [r["id"] for r in rules] == ["1", "2"]
    assert [r["text"] for r in user.api.instance_v2()["rules"]] == [r["text"] for r in rules]
    assert "engineering department" in user.api.instance_extended_description()["content"]
    policy = raw(configured, "GET", "/api/v1/instance/privacy_policy").json()
    assert "inside the organisation" in policy["content"]
    codes = [l["code"] for l in user.api.instance_languages()]
    assert {"en", "es", "sv"} <= set(codes)


def test_peers_and_activity_for_staff_only(configured):
    user = configured.user("i_staff")
    user.api.status_post("counted this week")
    assert user.api.instance_peers() == ["hq.corp.example", "supplier.example"]
    assert raw(configured, "GET", "/api/v1/instance/peers").status_code == 401
    weeks = user.api.instance_activity()
    assert len(weeks) == 12
    this_week = weeks[0]
    assert int(this_week["statuses"]) >= 1 and int(this_week["registrations"]) >= 2
    assert int(this_week["logins"]) >= 1
