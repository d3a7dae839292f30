"""Featured hashtags, discoverable, the directory and profile search through Mastodon.py."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError


@pytest.fixture(scope="module")
def world(node):
    ada = node.user("d_ada")
    hidden = node.user("d_hidden")
    ada.api.status_post("shipping the #Platform roadmap")
    ada.api.status_post("more #platform work and #oncall")
    ada.api.account_update_credentials(fields=[("Skills", "terraform, kubernetes")])
    hidden.api.account_update_credentials(
        fields=[("Skills", "terraform, kubernetes")], discoverable=False
    )
    return ada, hidden


def test_featured_tags(world):
    ada, hidden = world
    assert list(ada.api.featured_tags()) == []
    tag = ada.api.featured_tag_create("#Platform")
    assert tag["name"] == "Platform"
    assert int(tag["statuses_count"]) == 2
    assert tag["url"].endswith("/@d_ada/tagged/platform")
    assert [t["name"] for t in ada.api.featured_tags()] == ["Platform"]
    assert [t["name"] for t in hidden.api.account_featured_tags(ada.id)] == ["Platform"]
    assert [t["name"] for t in ada.api.featured_tag_suggestions()] == ["oncall"]
    for bad in ("not a hashtag", "platform", "1234"):
        with pytest.raises(MastodonAPIError) as e:
            ada.api.featured_tag_create(bad)
        assert e.value.args[1] == 422, (bad, e.value.args)
    assert len(ada.api.featured_tags()) == 1, "nothing written"
    extra = ada.api.featured_tag_create("oncall")
    ada.api.featured_tag_delete(extra["id"])
    assert [t["name"] for t in ada.api.featured_tags()] == ["Platform"]


def test_discoverable_and_directory(world):
    ada, hidden = world
    me = ada.api.account_verify_credentials()
    assert me["discoverable"] is True and me["source"]["discoverable"] is True
    assert hidden.api.account_verify_credentials()["discoverable"] is False
    listed = [a["acct"] for a in ada.api.directory(local=True)]
    assert "d_ada" in listed and "d_hidden" not in listed
    newest = ada.api.directory(order="new", limit=1)
    assert len(newest) == 1


def test_account_search_by_skill(world):
    ada, hidden = world
    found = ada.api.search_v2("terraform", result_type="accounts")["accounts"]
    assert [a["acct"] for a in found] == ["d_ada"]
    found = hidden.api.account_search("kubernetes")
    assert [a["acct"] for a in found] == ["d_ada"]
    by_tag = ada.api.search_v2("platform", result_type="accounts")["accounts"]
    assert [a["acct"] for a in by_tag] == ["d_ada"]
    by_handle = ada.api.search_v2("d_hidden", result_type="accounts")["accounts"]
    assert [a["acct"] for a in by_handle] == ["d_hidden"]
