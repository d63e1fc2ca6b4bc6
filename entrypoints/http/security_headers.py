"""The headers every answer carries so that browsers load nothing a page did not come with.

The portal's pages hold their style inline (one request shows a page on a slow
connection), so the policy allows exactly that style by its hash; scripts only from the
platform itself, never inline. ``/docs`` (Swagger UI, served from the installed package)
needs its own stylesheet, fonts and images from the platform too.
"""

import base64
import hashlib

from entrypoints.portal.html import STYLE


def _hash(source: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()}'"


_COMMON = "default-src 'none'; connect-src 'self'; img-src 'self' data:; base-uri 'none'"
PORTAL_POLICY = (
    f"{_COMMON}; script-src 'self'; style-src {_hash(STYLE)}; form-action 'self';"
    " frame-ancestors 'none'"
)
DOCS_POLICY = (
    f"{_COMMON}; script-src 'self'; style-src 'self'; font-src 'self'; frame-ancestors 'none'"
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_PORTAL = [(b"content-security-policy", PORTAL_POLICY.encode()), *_ALWAYS]
_DOCS = [(b"content-security-policy", DOCS_POLICY.encode()), *_ALWAYS]
# Made once: every answer takes one of these four.
_CHOICES = {
    (False, False): _PORTAL,
    (False, True): [*_PORTAL, HSTS],
    (True, False): _DOCS,
    (True, True): [*_DOCS, HSTS],
}


def security_headers(path: str, over_tls: bool) -> list[tuple[bytes, bytes]]:
    """The headers to add to the answer to ``path``; HSTS only where TLS is known to be."""
    docs = path == "/docs" or path.startswith("/docs/")
    return _CHOICES[docs, over_tls]
