"""Server-sent events streaming, as Mastodon.py consumes it."""

from __future__ import annotations

import threading
import time

import pytest
from mastodon import StreamListener

from conftest import raw, wait_for


class Recorder(StreamListener):
    def __init__(self) -> None:
        super().__init__()
        self.updates = []
        self.notifications = []
        self.deletes = []
        self.errors = []
        self.heartbeats = 0
        self.lock = threading.Lock()

    def on_update(self, status):
        with self.lock:
            self.updates.append(status)

    def on_notification(self, notification):
        with self.lock:
            self.notifications.append(notification)

    def on_delete(self, status_id):
        with self.lock:
            self.deletes.append(str(status_id))

    def on_abort(self, err):
        with self.lock:
            self.errors.append(err)

    def handle_heartbeat(self):
        self.heartbeats += 1


@pytest.fixture(scope="module")
def pair(node):
    alice = node.user("st_alice")
    bob = node.user("st_bob")
    stranger = node.user("st_stranger")
    assert alice.api.account_follow(bob.id)["following"] is True
    return alice, bob, stranger


def test_streaming_health(node):
    r = raw(node, "GET", "/api/v1/streaming/health")
    assert r.status_code == 200
    assert r.text.strip() == "OK"


def test_user_stream_requires_a_token(node):
    r = raw(node, "GET", "/api/v1/streaming/user", stream=True)
    try:
        assert r.status_code == 401, r.status_code
    finally:
        r.close()


def test_user_stream_delivers_updates_and_notifications(pair):
    alice, bob, stranger = pair
    listener = Recorder()
    handle = alice.api.stream_user(listener, run_async=True)
    try:
        connected = wait_for(lambda: handle.connection is not None or listener.errors, timeout=10)
        assert connected and not listener.errors, f"could not open the stream: {listener.errors}"
        time.sleep(0.3)  # let the node register the subscription behind the response headers

        # A status by someone alice follows.
        posted = bob.api.status_post("streamed to my followers")
        got = wait_for(lambda: [s for s in listener.updates if s["id"] == posted["id"]], timeout=10)
        assert got, f"no update within 10 s; updates seen: {[s['id'] for s in listener.updates]}"
        assert got[0]["account"]["id"] == bob.id
        assert "streamed to my followers" in got[0]["content"]

        # A public status by someone alice does not follow stays off her user stream.
        stranger_post = stranger.api.status_post("not for alice's stream")

        # A notification: bob favourites alice's status.
        own = alice.api.status_post("my own status")
        assert wait_for(lambda: any(s["id"] == own["id"] for s in listener.updates), timeout=10), (
            "alice's own status did not arrive on her user stream"
        )
        bob.api.status_favourite(own)
        notes = wait_for(lambda: [n for n in listener.notifications if n["type"] == "favourite"], timeout=10)
        assert notes, "no favourite notification within 10 s"
        assert notes[0]["status"]["id"] == own["id"]
        assert notes[0]["account"]["id"] == bob.id

        # A deletion.
        bob.api.status_delete(posted)
        assert wait_for(lambda: posted["id"] in listener.deletes, timeout=10), listener.deletes
        assert stranger_post["id"] not in [s["id"] for s in listener.updates]
        assert not listener.errors, listener.errors
    finally:
        handle.close()
    assert handle.closed


def test_the_user_stream_says_when_filters_change(node):
    """`filters_changed`, with no payload, as Mastodon.py expects it; only for their owner."""
    alice, bob = node.user(), node.user()

    class Filters(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.filters_changed = 0

        def on_filters_changed(self):
            with self.lock:
                self.filters_changed += 1

    mine = Filters()
    handle = alice.api.stream_user(mine, run_async=True)
    try:
        assert wait_for(lambda: handle.connection is not None or mine.errors, timeout=10)
        time.sleep(0.3)
        # Someone else's change is not alice's business.
        bob.api.create_filter_v2("Theirs", context=["home"], filter_action="warn", keywords_attributes=[{"keyword": "x"}])
        f = alice.api.create_filter_v2(
            "Spoilers", context=["home"], filter_action="warn", keywords_attributes=[{"keyword": "finale"}]
        )
        assert wait_for(lambda: mine.filters_changed >= 1, timeout=10), mine.errors
        alice.api.delete_filter_v2(f["id"])
        assert wait_for(lambda: mine.filters_changed >= 2, timeout=10), mine.errors
        time.sleep(0.3)
        assert mine.filters_changed == 2
        assert not mine.errors, mine.errors
    finally:
        handle.close()
