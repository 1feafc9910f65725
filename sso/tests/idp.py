"""A local OpenID Connect provider (``devidp``) in a process of its own, for tests."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import ARTIFACTS, ROOT

PASSWORD = "idp-password"
CLIENT_SECRET = "test-client-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalIdP:
    """``python -m devidp`` on a free port, with users and clients from a config."""

    def __init__(self, state_dir: Path, portal_url: str, users: list, clients: list):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        self.state_dir = state_dir
        self.portal_url = portal_url.rstrip("/")
        self.config = {"users": users, "clients": clients}
        self.log_path = ARTIFACTS / "devidp.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> LocalIdP:
        ARTIFACTS.mkdir(exist_ok=True)
        config_path = self.state_dir / "config.json"
        config_path.write_text(json.dumps(self.config))
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devidp",
                "--port",
                str(self.port),
                "--config",
                str(config_path),
                "--portal",
                self.portal_url,
                "--state-dir",
                str(self.state_dir),
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"devidp exited: {self.log_path.read_text()[-3000:]}"
                )
            try:
                url = self.issuer + "/.well-known/openid-configuration"
                if httpx.get(url, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"devidp did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "log", None):
            self.log.close()

    def provider(self, key: str, client_id: str, **extra) -> dict:
        """A ``settings.SSO_PROVIDERS`` entry for one of this provider's clients."""
        return {
            "key": key,
            "name": extra.pop("name", f"Org One ({key})"),
            "issuer": extra.pop("issuer", self.issuer),
            "client_id": client_id,
            "client_secret": CLIENT_SECRET,
            "scopes": "openid email profile groups",
            "algorithms": ["RS256"],
            **extra,
        }


def user(username: str, email: str, groups: list[str], **names) -> dict:
    return {
        "username": username,
        "password": PASSWORD,
        "email": email,
        "groups": groups,
        **names,
    }


def client(client_id: str, fault: str | None = None) -> dict:
    return {
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": ["{portal}/accounts/sso/callback/"],
        "post_logout_redirect_uris": ["{portal}/accounts/login/"],
        "fault": fault,
    }


def sign_in_over_http(
    http: httpx.Client, portal: str, provider_key: str, username: str, next_url=""
):
    """Drive a sign-in as a browser would, without one: start at the portal, sign
    in at the provider's form, follow the redirects back. Returns the portal's
    last answer (the landing page, or the refusal)."""
    response = http.get(
        f"{portal}/accounts/sso/{provider_key}/",
        params={"next": next_url} if next_url else None,
        follow_redirects=True,
    )
    if "Local identity provider" not in response.text:
        return response  # still signed in at the provider: straight back
    form_url = str(response.url)
    token = http.cookies.get("devidp_csrftoken")
    next_value = httpx.URL(form_url).params.get("next")
    return http.post(
        form_url,
        data={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": PASSWORD,
            "next": next_value,
        },
        follow_redirects=True,
    )
