"""Media uploads through Mastodon.py: upload, describe, attach, fetch the files, size limit."""

from __future__ import annotations

import io

import pytest
import requests
from mastodon import MastodonAPIError, MastodonNetworkError

from conftest import HTTP_TIMEOUT, make_png, png_size, raw, statuses_count, wait_for


@pytest.fixture(scope="module")
def alice(node):
    return node.user("m_alice")


@pytest.fixture(scope="module")
def limits(node):
    return node.client().instance_v2()["configuration"]["media_attachments"]


def upload(user, data=None, description="a gradient, 64 by 48"):
    media = user.api.media_post(
        io.BytesIO(data or make_png()), mime_type="image/png", description=description, file_name="gradient.png"
    )
    if media["url"] is None:  # 202: still processing
        media = wait_for(lambda: (lambda m: m if m["url"] else None)(user.api.media(media)), timeout=20)
        assert media, "the upload never finished processing"
    return media


def fetch(url):
    r = requests.get(url, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, f"GET {url}: {r.status_code}"
    assert r.headers["content-type"].startswith("image/"), r.headers["content-type"]
    assert len(r.content) > 0
    return r


def test_upload_describe_attach(node, alice, limits):
    assert "image/png" in limits["supported_mime_types"]
    png = make_png(64, 48)
    assert png_size(png) == (64, 48)
    media = upload(alice, png)
    assert isinstance(media["id"], str)
    assert media["type"] == "image"
    assert media["description"] == "a gradient, 64 by 48"
    assert media["url"].startswith(node.base)
    assert media["preview_url"].startswith(node.base)
    assert media["meta"]["original"]["width"] == 64
    assert media["meta"]["original"]["height"] == 48

    original = fetch(media["url"])
    if original.headers["content-type"] == "image/png":
        assert png_size(original.content) == (64, 48)
    fetch(media["preview_url"])

    updated = alice.api.media_update(media, description="now better described")
    assert updated["id"] == media["id"]
    assert updated["description"] == "now better described"

    before = statuses_count(alice)
    s = alice.api.status_post("with a picture", media_ids=[media])
    assert [m["id"] for m in s["media_attachments"]] == [media["id"]]
    att = s["media_attachments"][0]
    assert att["description"] == "now better described"
    assert att["type"] == "image"
    fetch(att["url"])
    assert statuses_count(alice) == before + 1
    assert alice.api.status(s)["media_attachments"][0]["id"] == media["id"]
    # Media-only account view.
    assert s["id"] in [x["id"] for x in alice.api.account_statuses(alice.id, only_media=True)]


def test_media_without_text(alice):
    media = upload(alice, make_png(16, 16, seed=3), description=None)
    s = alice.api.status_post("", media_ids=[media])
    assert s["content"] == ""
    assert [m["id"] for m in s["media_attachments"]] == [media["id"]]


def test_someone_elses_media_cannot_be_attached(node, alice):
    bob = node.user("m_bob")
    media = upload(bob)
    before = statuses_count(alice)
    with pytest.raises(MastodonAPIError) as e:
        alice.api.status_post("stolen picture", media_ids=[media])
    assert e.value.args[1] in (404, 422), e.value.args
    assert statuses_count(alice) == before


def test_oversized_upload_is_refused(node, alice, limits):
    limit = int(limits["image_size_limit"])
    assert 0 < limit <= 200 * 1024 * 1024, limit
    big = make_png(8, 8) + b"\0" * (limit + 1024)
    before = statuses_count(alice)
    try:
        alice.api.media_post(io.BytesIO(big), mime_type="image/png", file_name="huge.png")
    except MastodonNetworkError as e:
        pytest.fail(f"the node dropped the connection instead of answering 413/422: {e}")
    except MastodonAPIError as e:
        assert e.args[1] in (413, 422), e.args
    else:
        pytest.fail(f"an upload of {len(big)} bytes (limit {limit}) was accepted")
    assert statuses_count(alice) == before
    # The node still works.
    assert raw(node, "GET", "/health").status_code == 200
