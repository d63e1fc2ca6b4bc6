"""The platform's absolute URLs as the public reaches them.

With ``PROCUREMENT_PUBLIC_URL`` set, every absolute URL the platform publishes (OCDS
packages, their extensions, Atom feeds, the portal's links) is on that base, whatever Host
the request came with: behind a proxy, or read back from an archive, they still resolve.
Unset, they follow the request, as the client asked for it.
"""

from starlette.datastructures import URL
from starlette.requests import Request


def _configured(request: Request) -> str | None:
    handler = getattr(request.app.state, "handler", None)
    settings = getattr(handler, "settings", None)
    configured: str | None = getattr(settings, "public_url", None)
    return configured


def public_base(request: Request) -> str:
    """The platform's base URL, with its trailing slash: ``https://sicap.example.ro/``."""
    configured = _configured(request)
    return f"{configured}/" if configured else str(request.base_url)


def public_url(request: Request, url: URL | None = None) -> str:
    """``url`` (the request's own by default) with its path below the base and its query,
    on the public base."""
    url = url or request.url
    configured = _configured(request)
    if not configured:
        return str(url)
    base = request.base_url
    relative = url.path.removeprefix(base.path.rstrip("/")).lstrip("/")
    query = f"?{url.query}" if url.query else ""
    return f"{configured}/{relative}{query}"


def link_base(request: Request) -> str:
    """The base of links in pages: the public base URL when it is set, so that a page saved
    or shared names the platform's public address; the site's root (``/``) otherwise, so
    that a page kept in a cache suits every Host it is asked for with."""
    configured = _configured(request)
    return f"{configured}/" if configured else "/"
