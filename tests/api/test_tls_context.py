from __future__ import annotations

import ssl

from reconciler.api.auth import api_settings_from_env
from reconciler.api.session import _tls_context


def test_plain_http_skips_the_trust_store_but_fails_closed() -> None:
    settings = api_settings_from_env({"NX1_HOST": "http://127.0.0.1:8080", "NX1_API_KEY": "k"})
    context = _tls_context(settings)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0


def test_https_anywhere_keeps_the_default_trust_store() -> None:
    env = {"NX1_HOST": "https://aiapi.acme.nx1cloud.com", "NX1_API_KEY": "k"}
    assert _tls_context(api_settings_from_env(env)) is True
    env = {
        "NX1_HOST": "http://localhost:8080",
        "NX1_CLIENT_ID": "ci",
        "NX1_CLIENT_SECRET": "s",
        "NX1_TOKEN_URL": "https://sso.prod.nx1cloud.com/realms/acme/protocol/openid-connect/token",
    }
    assert _tls_context(api_settings_from_env(env)) is True
