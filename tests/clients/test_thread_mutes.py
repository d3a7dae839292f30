"""Muting a conversation, driven by Mastodon.py: nothing more is notified about the thread,
wherever in it the mute was set, until it is unmuted; other threads are not affected."""


def mentions_and_favourites(user) -> list[tuple[str, str]]:
    return [(n["type"], n["status"]["id"]) for n in user.api.notifications(types=["mention", "favourite"])]


def test_a_muted_conversation_notifies_nothing_until_unmuted(node):
    alice, bob, carol = node.user(), node.user(), node.user()
    root = alice.api.status_post("Who is coming to the offsite?")
    reply = bob.api.status_post(f"@{alice.username} me", in_reply_to_id=root["id"])
    assert mentions_and_favourites(alice) == [("mention", reply["id"])]

    # Muted from a reply, the whole thread is muted.
    muted = alice.api.status_mute(reply["id"])
    assert muted["id"] == reply["id"] and muted["muted"] is True
    assert alice.api.status(root["id"])["muted"] is True
    deeper = carol.api.status_post(f"@{alice.username} and me", in_reply_to_id=reply["id"])
    carol.api.status_favourite(root["id"])
    elsewhere = carol.api.status_post(f"@{alice.username} unrelated: the printer is fixed")
    assert mentions_and_favourites(alice) == [("mention", elsewhere["id"]), ("mention", reply["id"])]
    # The status is still there for everyone; only the notifications stop.
    assert deeper["id"] in [s["id"] for s in alice.api.status_context(root["id"])["descendants"]]
    assert bob.api.status(root["id"])["muted"] is False

    unmuted = alice.api.status_unmute(root["id"])
    assert unmuted["muted"] is False
    assert alice.api.status(reply["id"])["muted"] is False
    last = carol.api.status_post(f"@{alice.username} see you there", in_reply_to_id=deeper["id"])
    assert mentions_and_favourites(alice)[0] == ("mention", last["id"])
