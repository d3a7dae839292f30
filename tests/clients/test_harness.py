"""The harness itself against what every node serves: a node starts, users are created with the
CLI while it runs, and discovery documents find them."""

from conftest import raw


def test_node_is_up_and_created_the_first_admin(node):
    r = raw(node, "GET", "/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert node.admin_password, "the first start should print the admin's generated password"
    assert any(line.startswith("fika listening on 127.0.0.1:") for line in node.stdout_lines)


def test_cli_created_user_is_discoverable(node):
    user = node.create_user("harness_carol")
    r = raw(node, "GET", f"/.well-known/webfinger?resource=acct:{user.username}@{node.domain}")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["subject"] == f"acct:{user.username}@{node.domain}"
    r = raw(node, "GET", "/.well-known/nodeinfo")
    assert r.status_code == 200
    assert any("nodeinfo" in link["rel"] for link in r.json()["links"])


def test_duplicate_user_is_refused(node):
    node.create_user("harness_dave")
    out = node.cli("admin", "create-user", "harness_dave", "--password-stdin", stdin="x" * 20 + "\n")
    assert out.returncode != 0
