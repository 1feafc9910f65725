"""Claims of the local provider's users, and the faults a client may ask for."""

import json
import time

from django.conf import settings
from jwcrypto import jwk, jws, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

EXPIRED, FORGED, WRONG_ISSUER = "expired", "forged", "wrong-issuer"

# Signs "forged" ID tokens: a key the provider's JWKS does not publish.
ROGUE_KEY = jwk.JWK.generate(kty="RSA", size=2048)


def fault_of(client) -> str | None:
    """The fault the configuration gives this client's ID tokens, if any."""
    return settings.DEVIDP_FAULTS.get(client.client_id)


class DevValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "groups"}

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "name": user.get_full_name() or user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.username,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expires = super().get_id_token_dictionary(token, token_handler, request)
        fault = fault_of(request.client)
        if fault == EXPIRED:
            claims["exp"] = int(time.time()) - 600
        elif fault == WRONG_ISSUER:
            claims["iss"] = claims["iss"] + "-elsewhere"
        return claims, expires

    def finalize_id_token(self, id_token, token, token_handler, request):
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        if fault_of(request.client) != FORGED:
            return signed
        unverified = jws.JWS()
        unverified.deserialize(signed)
        header = json.loads(unverified.objects["protected"])
        forged = jwt.JWT(
            header=json.dumps(header),
            claims=unverified.objects["payload"].decode(),
        )
        forged.make_signed_token(ROGUE_KEY)
        return forged.serialize()
