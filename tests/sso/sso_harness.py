"""The company-login suite's harness: real identity providers on loopback ports, and a browser
made of `requests` that follows fika's and the provider's pages as a person would.

- `OpenIdProvider`: tests/sso/provider/provider.mjs (oidc-provider, from npm) under the Node
  that scripts/sso-tests installs (FIKA_SSO_TEST_NODE), steered through its /_test/ endpoints.
- `Directory`: Debian's slapd (FIKA_SSO_TEST_SLAPD) as a child process with its own config and
  database under a temp dir, loaded with tests/sso/directory.ldif by ldapadd.
- fika nodes and their storage come from the client suite's harness (tests/clients/conftest.py).
Nothing here builds or installs anything.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urljoin, urlparse

import requests

HERE = Path(__file__).resolve().parent
PROVIDER_SCRIPT = HERE / "provider" / "provider.mjs"
USERS = HERE / "users.json"
LDIF = HERE / "directory.ldif"
NODE = os.environ.get("FIKA_SSO_TEST_NODE") or "node"
SLAPD = os.environ.get("FIKA_SSO_TEST_SLAPD") or "/usr/sbin/slapd"
CLIENT_ID = "fika"
CLIENT_SECRET = "fika-test-secret"
SUFFIX = "dc=fika,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "directory-admin-secret"
START_TIMEOUT = 30
HTTP_TIMEOUT = 30


def _load_client_harness():
    """tests/clients/conftest.py as a plain module (its fixtures stay there)."""
    path = HERE.parent / "clients" / "conftest.py"
    spec = importlib.util.spec_from_file_location("fika_client_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_client_harness()
free_port = harness.free_port


def _wait_for_line(proc: subprocess.Popen, needle: str, what: str, log: Path) -> None:
    found = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        with open(log, "a") as out:
            for line in proc.stdout:
                out.write(line)
                out.flush()
                if needle in line:
                    found.set()

    threading.Thread(target=pump, daemon=True).start()
    if not found.wait(START_TIMEOUT):
        proc.kill()
        raise RuntimeError(f"{what} did not start; its output:\n{log.read_text(errors='replace')}")


class OpenIdProvider:
    """oidc-provider with the users of users.json, for one fika callback URL."""

    def __init__(self, redirect_uri: str) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="fika-oidc-"))
        self.log_path = self.dir / "provider.log"
        self.users = json.loads(USERS.read_text())
        users_file = self.dir / "users.json"
        users_file.write_text(json.dumps(self.users))
        self.proc = subprocess.Popen(
            [NODE, str(PROVIDER_SCRIPT), str(self.port), CLIENT_ID, CLIENT_SECRET, redirect_uri, str(users_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=PROVIDER_SCRIPT.parent,
        )
        _wait_for_line(self.proc, "provider listening on", "the OpenID provider", self.log_path)

    def _control(self, what: str, body: dict) -> dict:
        r = requests.post(f"{self.issuer}/_test/{what}", data=json.dumps(body), timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        return r.json()

    def set_users(self, users: dict) -> None:
        self.users = users
        self._control("users", users)

    def rotate_key(self) -> str:
        return self._control("rotate", {})["kid"]

    def mode(self, **mode) -> None:
        self._control("mode", mode)

    def env(self) -> dict[str, str]:
        return {
            "FIKA_OIDC_ISSUER": self.issuer,
            "FIKA_OIDC_CLIENT_ID": CLIENT_ID,
            "FIKA_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "FIKA_OIDC_DISPLAY_NAME": "Test Company ID",
            "FIKA_OIDC_SCOPES": '["openid", "profile", "email", "groups"]',
            "FIKA_OIDC_ADMIN_GROUPS": '["it-admins"]',
            "FIKA_OIDC_COMMUNICATOR_GROUPS": '["comms"]',
            "FIKA_OIDC_REQUIRED_GROUP": "staff",
            "FIKA_OIDC_TIMEOUT_SECONDS": "2",
        }

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


SLAPD_CONF = """\
TLSCertificateFile {dir}/cert.pem
TLSCertificateKeyFile {dir}/key.pem
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {dir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 16777216
suffix "{suffix}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {dir}/data
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
"""


class Directory:
    """slapd on two loopback ports (ldap:// with StartTLS, and ldaps://), with a self-signed
    certificate for 127.0.0.1 (`ca_file`) and tests/sso/directory.ldif loaded."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_url = f"ldaps://127.0.0.1:{free_port()}"
        self.dir = Path(tempfile.mkdtemp(prefix="fika-slapd-"))
        (self.dir / "data").mkdir()
        self.ca_file = self.dir / "cert.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(self.dir / "key.pem"), "-out", str(self.ca_file),
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=60,
        )
        self.conf = self.dir / "slapd.conf"
        self.conf.write_text(SLAPD_CONF.format(dir=self.dir, suffix=SUFFIX, rootdn=ROOT_DN, rootpw=ROOT_PW))
        self.log_path = self.dir / "slapd.log"
        self.proc: Optional[subprocess.Popen] = None
        self.start()
        self.ldap("ldapadd", input=LDIF.read_text())

    def start(self) -> None:
        # -d keeps slapd in the foreground, a child of the test; its log goes to our pipe.
        self.proc = subprocess.Popen(
            [SLAPD, "-f", str(self.conf), "-h", f"{self.url}/ {self.ldaps_url}/", "-d", "stats"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _wait_for_line(self.proc, "slapd starting", "slapd", self.log_path)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def ldap(self, tool: str, *args: str, input: str = "") -> str:
        out = subprocess.run(
            [tool, "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PW, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, f"{tool} failed ({out.returncode}): {out.stderr}{out.stdout}"
        return out.stdout

    def delete(self, dn: str) -> None:
        self.ldap("ldapdelete", dn)

    def env(self) -> dict[str, str]:
        return {
            "FIKA_LDAP_URL": self.url,
            "FIKA_LDAP_BIND_DN": ROOT_DN,
            "FIKA_LDAP_BIND_PASSWORD": ROOT_PW,
            "FIKA_LDAP_USER_BASE": f"ou=people,{SUFFIX}",
            "FIKA_LDAP_GROUP_BASE": f"ou=groups,{SUFFIX}",
            "FIKA_LDAP_ADMIN_GROUPS": '["admins"]',
            "FIKA_LDAP_REQUIRED_GROUP": "staff",
            "FIKA_LDAP_SYNC_INTERVAL_SECONDS": "2",
            "FIKA_LDAP_TIMEOUT_SECONDS": "3",
        }

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# A browser: follows redirects by hand (the app's redirect URI is a custom scheme), submits forms.

FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR_RE = re.compile(r'(\w[\w-]*)="([^"]*)"')
INPUT_RE = re.compile(r"<(?:input|button)\b([^>]*)>", re.I)


def forms(page: str) -> list[dict]:
    """Every form of an HTML page: its action, method and named fields (hidden inputs' values)."""
    out = []
    for attrs, body in FORM_RE.findall(page):
        a = dict(ATTR_RE.findall(attrs))
        fields = {}
        for inp in INPUT_RE.findall(body):
            ia = {k: html.unescape(v) for k, v in ATTR_RE.findall(inp)}
            if "name" in ia and ia.get("type") in ("hidden",):
                fields[ia["name"]] = ia.get("value", "")
        out.append({"action": html.unescape(a.get("action", "")), "method": a.get("method", "get").lower(), "fields": fields, "html": body})
    return out


def form_with(page: str, needle: str) -> dict:
    for f in forms(page):
        if needle in f["html"] or needle in f["action"]:
            return f
    raise AssertionError(f"no form with {needle!r} on the page:\n{page[:3000]}")


class Browser:
    def __init__(self) -> None:
        self.s = requests.Session()
        #: The last URL the browser was sent to that it could not follow (the app's redirect).
        self.app_redirect: Optional[str] = None
        self.history: list[str] = []

    def follow(self, r: requests.Response) -> requests.Response:
        """Follows HTTP redirects until a page, or a redirect to the app's custom scheme."""
        for _ in range(20):
            if r.status_code not in (301, 302, 303, 307, 308):
                return r
            location = urljoin(r.url, r.headers["Location"])
            self.history.append(location)
            if urlparse(location).scheme not in ("http", "https"):
                self.app_redirect = location
                return r
            r = self.s.get(location, allow_redirects=False, timeout=HTTP_TIMEOUT)
        raise AssertionError("redirect loop")

    def get(self, url: str) -> requests.Response:
        return self.follow(self.s.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT))

    def submit(self, base: str, form: dict, **fields) -> requests.Response:
        data = {**form["fields"], **fields}
        url = urljoin(base, form["action"])
        return self.follow(self.s.post(url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT))

    def code(self) -> str:
        assert self.app_redirect, f"no redirect to the app; went through {self.history}"
        q = parse_qs(urlparse(self.app_redirect).query)
        assert "code" in q, f"the app got no code: {self.app_redirect}"
        return q["code"][0]
