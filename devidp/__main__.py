"""Run the local OpenID Connect provider: ``python -m devidp --port 8001 --config F``.

The configuration (JSON) lists the users (username, password, email, names,
groups) and the clients (client_id, client_secret, redirect_uris,
post_logout_redirect_uris, optional fault); ``{portal}`` in a URI is replaced by
``--portal``. Users and clients are created or updated at each start.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _signing_key(state_dir: Path) -> None:
    path = state_dir / "signing-key.pem"
    if path.exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def load(config: dict, portal: str) -> None:
    """Create or update the configured users, groups and clients."""
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for entry in config.get("users", []):
        user, _ = User.objects.get_or_create(username=entry["username"])
        user.email = entry.get("email", "")
        user.first_name = entry.get("first_name", "")
        user.last_name = entry.get("last_name", "")
        user.set_password(entry["password"])
        user.save()
        user.groups.set(
            Group.objects.get_or_create(name=name)[0]
            for name in entry.get("groups", [])
        )
    for entry in config.get("clients", []):
        uris = [uri.replace("{portal}", portal) for uri in entry["redirect_uris"]]
        logout_uris = [
            uri.replace("{portal}", portal)
            for uri in entry.get("post_logout_redirect_uris", [])
        ]
        app = Application.objects.filter(client_id=entry["client_id"]).first()
        app = app or Application(client_id=entry["client_id"])
        app.name = entry.get("name", entry["client_id"])
        app.client_secret = entry["client_secret"]
        app.client_type = Application.CLIENT_CONFIDENTIAL
        app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
        app.algorithm = Application.RS256_ALGORITHM
        app.redirect_uris = " ".join(uris)
        app.post_logout_redirect_uris = " ".join(logout_uris)
        app.skip_authorization = True
        app.save()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devidp", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--config", type=Path, default=Path(__file__).with_name("demo.json")
    )
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args(argv)

    state_dir = args.state_dir or Path(f"/tmp/devidp-{args.port}")
    state_dir.mkdir(parents=True, exist_ok=True)
    _signing_key(state_dir)
    os.environ["DEVIDP_STATE_DIR"] = str(state_dir)
    os.environ["DEVIDP_ISSUER"] = f"http://{args.host}:{args.port}/o"
    os.environ["DEVIDP_CONFIG"] = str(args.config.resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = "devidp.settings"

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    load(json.loads(args.config.read_text()), args.portal.rstrip("/"))
    print(f"Local identity provider: issuer {os.environ['DEVIDP_ISSUER']}", flush=True)
    sys.stdout.flush()
    call_command(
        "runserver", f"{args.host}:{args.port}", use_reloader=False, skip_checks=True
    )


if __name__ == "__main__":
    main()
