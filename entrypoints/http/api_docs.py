"""``/docs``: Swagger UI from the installed ``swagger_ui_bundle`` package, not from a CDN.

FastAPI's page starts Swagger UI with an inline script; that script is served as a file of
its own here, so that the page's Content-Security-Policy allows scripts from the platform
only. The packaged Swagger UI (4.15) refuses to render an OpenAPI 3.1 description, which is
what FastAPI writes; it is given the same description labelled 3.0.3, which it renders
(``/openapi.json`` itself stays 3.1).
"""

import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # ships no types

ASSETS = "/docs/assets"
STARTER = "/docs/start.js"
DESCRIPTION = "/docs/openapi.json"
_INLINE = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def add_docs(app: FastAPI) -> None:
    page = get_swagger_ui_html(
        openapi_url=DESCRIPTION,
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

    @app.get(DESCRIPTION, include_in_schema=False)
    async def description_for_swagger_ui() -> JSONResponse:
        return JSONResponse(app.openapi() | {"openapi": "3.0.3"})

    @app.get(STARTER, include_in_schema=False)
    async def start_swagger_ui() -> Response:
        return Response(starter, media_type="text/javascript")
