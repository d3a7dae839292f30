"""Web Push, driven by Mastodon.py: subscriptions made, read, changed and deleted, and pushes
delivered to a receiver in this test that checks them with independent implementations: the
VAPID token (RFC 8292) with py_vapid, the payload (RFC 8291, aes128gcm) decrypted with http_ece.
"""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import http_ece
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from mastodon import MastodonAPIError, MastodonNotFoundError
from py_vapid import jwt as vapid_jwt

from conftest import finish_node, start_node, _live_nodes

WAIT = 20


class Receiver:
    """A push service on loopback: records every POST; answers by path (`/gone/…` 410,
    `/flaky/…` 503 the first time, anything else 201)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.lock = threading.Lock()
        self.seen_flaky: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = 201
                if self.path.startswith("/gone/"):
                    status = 410
                elif self.path.startswith("/flaky/") and self.path not in receiver.seen_flaky:
                    receiver.seen_flaky.add(self.path)
                    status = 503
                with receiver.lock:
                    receiver.received.append(
                        {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body, "status": status}
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.received if r["path"] == path]

    def wait(self, path: str, count: int = 1) -> list[dict]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            got = self.on(path)
            if len(got) >= count:
                return got
            time.sleep(0.1)
        raise AssertionError(f"{count} push(es) to {path} expected, got {self.on(path)}")


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def push_node():
    """A node that may push to plain HTTP on loopback (the receiver), retrying after 1 s."""
    n = start_node(
        extra_env={
            "FIKA_PUSH_ALLOW_HTTP": "true",
            "FIKA_PUSH_ALLOW_PRIVATE_ADDRESSES": "true",
            "FIKA_PUSH_RETRY_BASE_SECONDS": "1",
        }
    )
    _live_nodes.append(n)
    try:
        yield n
    finally:
        finish_node(n)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decrypt(push: dict, keys: tuple[dict, dict]) -> dict:
    """The payload as the user agent reads it, with http_ece (an independent RFC 8291)."""
    priv, _ = keys
    private_key = ec.derive_private_key(priv["privkey"], ec.SECP256R1())
    plain = http_ece.decrypt(push["body"], private_key=private_key, auth_secret=priv["auth"], version="aes128gcm")
    return json.loads(plain)


def vapid_claims(push: dict, server_key: str) -> dict:
    """Checks the VAPID header as a push service does (py_vapid) and returns its claims."""
    auth = push["headers"]["authorization"]
    assert auth.startswith("vapid "), auth
    fields = dict(part.strip().split("=", 1) for part in auth[len("vapid ") :].split(","))
    assert fields["k"] == server_key
    return vapid_jwt.decode(fields["t"], fields["k"])


def subscribe(user, endpoint: str, **events):
    keys = user.api.push_subscription_generate_keys()
    sub = user.api.push_subscription_set(endpoint, keys[1], **events)
    return sub, keys


def test_a_mention_is_pushed_signed_and_encrypted(push_node, receiver):
    alice, bob = push_node.user(), push_node.user()
    path = f"/ok/{alice.username}"
    sub, keys = subscribe(alice, receiver.url(path), mention_events=True, follow_events=False)
    assert sub["endpoint"] == receiver.url(path)
    assert sub["alerts"]["mention"] is True and sub["alerts"]["follow"] is False
    assert sub["policy"] == "all"
    server_key = sub["server_key"]
    # The same key apps read from the instance and from their registration.
    instance = requests.get(push_node.url("/api/v2/instance"), timeout=10).json()
    assert instance["configuration"]["vapid"]["public_key"] == server_key
    assert len(b64url_decode(server_key)) == 65

    # A follow is not asked for: nothing is pushed for it.
    bob.api.account_follow(alice.id)
    status = bob.api.status_post(f"@{alice.username} the quarterly numbers are in")
    push = receiver.wait(path)[0]
    assert push["headers"]["content-encoding"] == "aes128gcm"
    assert int(push["headers"]["ttl"]) > 0
    claims = vapid_claims(push, server_key)
    assert claims["aud"] == f"http://127.0.0.1:{receiver.port}"
    assert claims["exp"] > time.time() and claims["exp"] <= time.time() + 24 * 3600
    assert claims["sub"].startswith(("mailto:", "https:", "http:"))

    payload = decrypt(push, keys)
    assert payload["notification_type"] == "mention"
    assert payload["access_token"] == alice.token
    assert "mentioned you" in payload["title"]
    assert "quarterly numbers" in payload["body"]
    # The id is the notification's, as the notifications API gives it.
    notes = alice.api.notifications(types=["mention"])
    assert str(notes[0]["id"]) == payload["notification_id"]
    assert notes[0]["status"]["id"] == status["id"]
    time.sleep(1)
    assert len(receiver.on(path)) == 1, "the follow was not asked for, and nothing is sent twice"


def test_subscription_read_changed_and_deleted(push_node, receiver):
    alice = push_node.user()
    path = f"/ok/{alice.username}"
    subscribe(alice, receiver.url(path), mention_events=True)
    got = alice.api.push_subscription()
    assert got["alerts"]["mention"] is True and got["alerts"]["favourite"] is False

    changed = alice.api.push_subscription_update(favourite_events=True, mention_events=False, policy="followed")
    assert changed["alerts"]["favourite"] is True and changed["alerts"]["mention"] is False
    assert changed["policy"] == "followed"
    again = alice.api.push_subscription()
    assert again["alerts"]["favourite"] is True and again["policy"] == "followed"

    alice.api.push_subscription_delete()
    with pytest.raises(MastodonNotFoundError):
        alice.api.push_subscription()
    # Nothing is pushed once it is gone.
    bob = push_node.user()
    bob.api.status_post(f"@{alice.username} still there?")
    time.sleep(1.5)
    assert receiver.on(path) == []


def test_the_policy_decides_whose_notifications_are_pushed(push_node, receiver):
    alice, friend, stranger = push_node.user(), push_node.user(), push_node.user()
    alice.api.account_follow(friend.id)
    path = f"/ok/{alice.username}"
    _, keys = subscribe(alice, receiver.url(path), mention_events=True, policy="followed")
    stranger.api.status_post(f"@{alice.username} from someone you do not follow")
    friend.api.status_post(f"@{alice.username} from a colleague you follow")
    pushes = receiver.wait(path)
    time.sleep(1)
    pushes = receiver.on(path)
    # Both notifications exist; only the followed sender's is pushed.
    assert len(alice.api.notifications(types=["mention"])) == 2
    assert len(pushes) == 1, pushes
    assert "colleague you follow" in decrypt(pushes[0], keys)["body"]


def test_a_failing_push_service_is_retried(push_node, receiver):
    alice, bob = push_node.user(), push_node.user()
    path = f"/flaky/{alice.username}"
    _, keys = subscribe(alice, receiver.url(path), favourite_events=True)
    status = alice.api.status_post("favourite me")
    bob.api.status_favourite(status["id"])
    tries = receiver.wait(path, count=2)
    assert [t["status"] for t in tries[:2]] == [503, 201]
    # The retry is the same push, encrypted afresh.
    assert decrypt(tries[0], keys) == decrypt(tries[1], keys)
    assert decrypt(tries[1], keys)["notification_type"] == "favourite"


def test_a_gone_subscription_is_dropped(push_node, receiver):
    alice, bob = push_node.user(), push_node.user()
    path = f"/gone/{alice.username}"
    subscribe(alice, receiver.url(path), follow_events=True)
    bob.api.account_follow(alice.id)
    receiver.wait(path)
    deadline = time.monotonic() + WAIT
    while True:
        try:
            alice.api.push_subscription()
        except MastodonNotFoundError:
            break
        assert time.monotonic() < deadline, "the subscription should be dropped after a 410"
        time.sleep(0.2)
    assert len(receiver.on(path)) == 1, "a 410 is not retried"


def test_bad_subscriptions_are_refused_and_nothing_is_written(push_node, node, receiver):
    alice = push_node.user()
    good_keys = alice.api.push_subscription_generate_keys()[1]

    def refused(api, endpoint, keys, **kw):
        with pytest.raises(MastodonAPIError) as e:
            api.push_subscription_set(endpoint, keys, **kw)
        assert e.value.args[1] == 422, e.value.args
        with pytest.raises(MastodonNotFoundError):
            api.push_subscription()

    # A key that is not a P-256 point, one of the wrong length, an auth secret of 8 bytes.
    refused(alice.api, receiver.url("/ok/x"), {"pubkey": b"\x04" + b"\x07" * 64, "auth": good_keys["auth"]})
    refused(alice.api, receiver.url("/ok/x"), {"pubkey": b"\x04" * 33, "auth": good_keys["auth"]})
    refused(alice.api, receiver.url("/ok/x"), {"pubkey": good_keys["pubkey"], "auth": b"12345678"})
    # Not a URL.
    refused(alice.api, "https://", good_keys)

    # A node with the defaults pushes only to HTTPS outside its own network.
    carol = node.user()
    refused(carol.api, receiver.url("/ok/carol"), good_keys)
    refused(carol.api, f"https://127.0.0.1:{receiver.port}/ok/carol", good_keys)

    # An unknown policy, sent as the API documents it.
    r = requests.post(
        push_node.url("/api/v1/push/subscription"),
        headers={"Authorization": f"Bearer {alice.token}"},
        json={
            "subscription": {
                "endpoint": receiver.url("/ok/json"),
                "keys": {
                    "p256dh": base64.urlsafe_b64encode(good_keys["pubkey"]).decode().rstrip("="),
                    "auth": base64.urlsafe_b64encode(good_keys["auth"]).decode().rstrip("="),
                },
            },
            "data": {"alerts": {"mention": True}, "policy": "friends"},
        },
        timeout=10,
    )
    assert r.status_code == 422 and "policy" in r.json()["error"], r.text
    with pytest.raises(MastodonNotFoundError):
        alice.api.push_subscription()

    # Without the push scope.
    reader = push_node.login(alice, scopes=["read"])
    with pytest.raises(MastodonAPIError) as e:
        reader.push_subscription_set(receiver.url("/ok/x"), good_keys)
    assert e.value.args[1] == 403


def test_a_node_with_push_off_keeps_subscriptions_and_sends_nothing(receiver):
    n = start_node(
        extra_env={
            "FIKA_PUSH_ENABLED": "false",
            "FIKA_PUSH_ALLOW_HTTP": "true",
            "FIKA_PUSH_ALLOW_PRIVATE_ADDRESSES": "true",
        }
    )
    _live_nodes.append(n)
    try:
        alice, bob = n.user(), n.user()
        path = f"/ok/off-{alice.username}"
        subscribe(alice, receiver.url(path), mention_events=True)
        bob.api.status_post(f"@{alice.username} nobody will be paged")
        assert alice.api.notifications(types=["mention"])
        time.sleep(1.5)
        assert receiver.on(path) == []
        assert alice.api.push_subscription()["alerts"]["mention"] is True
    finally:
        finish_node(n)
