"""``/docs``: Swagger UI from the installed ``swagger_ui_bundle`` package, not from a CDN.

FastAPI's page starts Swagger UI with an inline script; that script is served as a file of
its own here, so that the page's Content-Security-Policy allows scripts from the platform
only.
"""

import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # ships no types

ASSETS = "/docs/assets"
STARTER = "/docs/start.js"
_INLINE = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def add_docs(app: FastAPI) -> None:
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
    html = bytes(page.body).decode()
    starter = "\n".join(_INLINE.findall(html))
    html = _INLINE.sub(f'<script src="{STARTER}"></script>', html)
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(html)

    @app.get(STARTER, include_in_schema=False)
    async def start_swagger_ui() -> Response:
        return Response(starter, media_type="text/javascript")
