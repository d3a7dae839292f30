"""Filters with Mastodon.py: v2 filters with keywords and statuses mark matching statuses
(`filtered`) in the contexts they name, `hide` leaves them out (timelines, threads,
notifications), expiry ends a filter; the keywords and statuses sub-resources; the v1
endpoints over the same filters; bad input refused with nothing written."""

from __future__ import annotations

import time

import pytest
from mastodon import MastodonAPIError

from conftest import finish_node, raw, start_node, wait_for


@pytest.fixture(scope="module")
def office():
    n = start_node()
    try:
        yield n
    finally:
        finish_node(n)


def refused(call) -> tuple[int, str]:
    with pytest.raises(MastodonAPIError) as e:
        call()
    return e.value.args[1], str(e.value.args[-1])


def follow(a, b) -> None:
    a.api.account_follow(b.id)
    assert wait_for(lambda: a.api.account_relationships([b.id])[0]["following"])


def home_of(user, status_id):
    return [s for s in user.api.timeline_home() if s["id"] == status_id]


def test_a_warning_filter_marks_matches_where_it_applies(office):
    me = office.user("fw_me")
    them = office.user("fw_them")
    follow(me, them)
    hit = them.api.status_post("The Q4 budget is out")
    miss = them.api.status_post("The budgeting tool is down")
    plain = them.api.status_post("Lunch at noon")
    f = me.api.create_filter_v2(
        "Budget talk", ["home", "public"], "warn",
        keywords_attributes=[{"keyword": "budget", "whole_word": True}],
    )
    assert f["context"] == ["home", "public"] and f["filter_action"] == "warn"
    assert [k["keyword"] for k in f["keywords"]] == ["budget"] and f["keywords"][0]["whole_word"] is True

    shown = wait_for(lambda: home_of(me, hit["id"]))
    result = shown[0]["filtered"]
    assert len(result) == 1 and result[0]["filter"]["id"] == f["id"]
    assert result[0]["keyword_matches"] == ["budget"] and result[0]["status_matches"] is None
    assert home_of(me, miss["id"])[0]["filtered"] == []  # a whole word only
    assert home_of(me, plain["id"])[0]["filtered"] == []
    public = [s for s in me.api.timeline_public() if s["id"] == hit["id"]]
    assert public[0]["filtered"][0]["keyword_matches"] == ["budget"]
    # Not in a context the filter leaves out, and never for someone else.
    profile = [s for s in me.api.account_statuses(them.id) if s["id"] == hit["id"]]
    assert profile[0]["filtered"] == []
    assert [s for s in them.api.timeline_home() if s["id"] == hit["id"]][0]["filtered"] == []

    # A chosen status matches by id.
    fs = me.api.add_filter_status_v2(f["id"], plain["id"])
    assert fs["status_id"] == plain["id"]
    marked = home_of(me, plain["id"])[0]["filtered"]
    assert marked[0]["status_matches"] == [plain["id"]] and marked[0]["keyword_matches"] is None
    assert [s["id"] for s in me.api.filter_statuses_v2(f["id"])] == [fs["id"]]
    assert me.api.filter_status_v2(fs["id"])["status_id"] == plain["id"]
    code, why = refused(lambda: me.api.add_filter_status_v2(f["id"], plain["id"]))
    assert code == 422 and "already been taken" in why
    me.api.delete_filter_status_v2(fs["id"])
    assert home_of(me, plain["id"])[0]["filtered"] == []

    # Keywords as a sub-resource: add one matching inside words, change it, remove it.
    k = me.api.add_filter_keyword_v2(f["id"], "noon", whole_word=False)
    assert home_of(me, plain["id"])[0]["filtered"][0]["keyword_matches"] == ["noon"]
    assert sorted(x["keyword"] for x in me.api.filter_keywords_v2(f["id"])) == ["budget", "noon"]
    r = raw(office, "PUT", f"/api/v2/filters/keywords/{k['id']}", token=me.token, json={"keyword": "midnight"})
    assert r.status_code == 200 and r.json()["keyword"] == "midnight"
    assert home_of(me, plain["id"])[0]["filtered"] == []
    me.api.delete_filter_keyword_v2(k["id"])
    assert [x["keyword"] for x in me.api.filter_v2(f["id"])["keywords"]] == ["budget"]

    # Updating with keywords_attributes: one removed, one added.
    budget = me.api.filter_v2(f["id"])["keywords"][0]
    changed = me.api.update_filter_v2(
        f["id"], title="Money talk",
        keywords_attributes=[{"id": budget["id"], "_destroy": True}, {"keyword": "tool", "whole_word": True}],
    )
    assert changed["title"] == "Money talk" and [x["keyword"] for x in changed["keywords"]] == ["tool"]
    assert home_of(me, hit["id"])[0]["filtered"] == []
    assert home_of(me, miss["id"])[0]["filtered"][0]["keyword_matches"] == ["tool"]

    me.api.delete_filter_v2(f["id"])
    assert me.api.filters_v2() == []
    assert home_of(me, miss["id"])[0]["filtered"] == []


def test_a_hiding_filter_leaves_statuses_out(office):
    me = office.user("fh_me")
    them = office.user("fh_them")
    follow(me, them)
    root = them.api.status_post("Thread about the reorg")
    reply = them.api.status_post("More reorg rumours", in_reply_to_id=root["id"])
    other = them.api.status_post("Unrelated reply", in_reply_to_id=root["id"])
    mention = them.api.status_post(f"@{me.username} the reorg memo")
    assert wait_for(lambda: home_of(me, reply["id"]))
    f = me.api.create_filter_v2(
        "No reorg", ["home", "thread", "notifications"], "hide",
        keywords_attributes=[{"keyword": "rumours"}, {"keyword": "memo"}],
    )
    assert home_of(me, reply["id"]) == [] and home_of(me, other["id"])
    thread = me.api.status_context(root["id"])
    assert [s["id"] for s in thread["descendants"]] == [other["id"]]
    assert [n for n in me.api.notifications() if n["status"] and n["status"]["id"] == mention["id"]] == []
    # A status opened directly is still there (it is no list).
    assert me.api.status(reply["id"])["id"] == reply["id"]
    me.api.delete_filter_v2(f["id"])
    assert home_of(me, reply["id"])
    assert [n for n in me.api.notifications() if n["status"] and n["status"]["id"] == mention["id"]]


def test_a_filter_ends_when_it_expires(office):
    me = office.user("fe_me")
    them = office.user("fe_them")
    follow(me, them)
    post = them.api.status_post("Offsite planning")
    wait_for(lambda: home_of(me, post["id"]))
    f = me.api.create_filter_v2("Soon over", ["home"], "warn", expires_in=2,
                                keywords_attributes=[{"keyword": "offsite"}])
    assert f["expires_at"] is not None
    assert home_of(me, post["id"])[0]["filtered"]
    time.sleep(2.5)
    assert home_of(me, post["id"])[0]["filtered"] == []
    assert [x["id"] for x in me.api.filters_v2()] == [f["id"]]  # listed still, as on Mastodon


def test_the_v1_endpoints_over_the_same_filters(office):
    me = office.user("f1_me")
    them = office.user("f1_them")
    follow(me, them)
    post = them.api.status_post("Parking lot closed on Monday")
    wait_for(lambda: home_of(me, post["id"]))
    v1 = me.api.filter_create("parking", ["home"], irreversible=True, whole_word=True)
    assert v1["phrase"] == "parking" and v1["irreversible"] is True and v1["context"] == ["home"]
    assert home_of(me, post["id"]) == []
    # It is a v2 filter with one keyword, and v1 lists every keyword of every filter.
    v2 = me.api.filters_v2()
    assert len(v2) == 1 and v2[0]["filter_action"] == "hide" and v2[0]["keywords"][0]["id"] == v1["id"]
    me.api.add_filter_keyword_v2(v2[0]["id"], "monday")
    assert sorted(f["phrase"] for f in me.api.filters()) == ["monday", "parking"]
    changed = me.api.filter_update(v1["id"], phrase="parking", context=["home"], irreversible=False)
    assert changed["irreversible"] is False
    assert home_of(me, post["id"])[0]["filtered"][0]["filter"]["filter_action"] == "warn"
    assert me.api.filter(v1["id"])["phrase"] == "parking"
    me.api.filter_delete(v1["id"])
    # The filter stays while it has a keyword left; deleting the last one removes it.
    assert [f["phrase"] for f in me.api.filters()] == ["monday"]
    me.api.filter_delete(me.api.filters()[0]["id"])
    assert me.api.filters() == [] and me.api.filters_v2() == []


def test_bad_filters_are_refused_and_nothing_written(office):
    me = office.user("fb_me")
    other = office.user("fb_other")
    cases = [
        (dict(title="x", context=["everywhere"], filter_action="warn"), "Context includes invalid values"),
        (dict(title="x", context=[], filter_action="warn"), "Context can't be blank"),
        (dict(title=" ", context=["home"], filter_action="warn"), "Title can't be blank"),
        (dict(title="x", context=["home"], filter_action="explode"), "Filter action"),
        (dict(title="x", context=["home"], filter_action="warn", keywords_attributes=[{"keyword": ""}]),
         "keyword can't be blank"),
        (dict(title="x", context=["home"], filter_action="warn", expires_in=-5), "greater than 0"),
    ]
    for params, message in cases:
        r = raw(office, "POST", "/api/v2/filters", token=me.token, json=params)
        assert r.status_code == 422 and message in r.json()["error"], (params, r.text)
    assert me.api.filters_v2() == []
    r = raw(office, "POST", "/api/v1/filters", token=me.token, data={"phrase": "x", "context[]": "nowhere"})
    assert r.status_code == 422 and "invalid" in r.json()["error"]
    assert me.api.filters() == []
    r = raw(office, "POST", "/api/v2/filters", token=me.token, data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()

    mine = me.api.create_filter_v2("Mine", ["home"], "warn", keywords_attributes=[{"keyword": "a"}])
    # Someone else's filter, keyword or status is not found, and not changed.
    for method, path in [
        ("GET", f"/api/v2/filters/{mine['id']}"),
        ("PUT", f"/api/v2/filters/{mine['id']}"),
        ("DELETE", f"/api/v2/filters/{mine['id']}"),
        ("GET", f"/api/v2/filters/keywords/{mine['keywords'][0]['id']}"),
        ("DELETE", f"/api/v1/filters/{mine['keywords'][0]['id']}"),
    ]:
        r = raw(office, method, path, token=other.token, json={"title": "stolen"})
        assert r.status_code == 404 and "error" in r.json(), (method, path)
    # An update naming another filter's keyword changes nothing.
    theirs = other.api.create_filter_v2("Theirs", ["home"], "warn", keywords_attributes=[{"keyword": "b"}])
    r = raw(office, "PUT", f"/api/v2/filters/{mine['id']}", token=me.token,
            json={"title": "renamed", "keywords_attributes": [{"id": theirs["keywords"][0]["id"], "_destroy": True}]})
    assert r.status_code == 404
    assert me.api.filter_v2(mine["id"])["title"] == "Mine"
    assert [k["keyword"] for k in other.api.filter_v2(theirs["id"])["keywords"]] == ["b"]
