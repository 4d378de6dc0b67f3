"""The interactive API documentation, served entirely by this server.

Swagger UI comes from a pip package that ships its files (`swagger-ui-bundle-v2`, Swagger UI
5, which reads the OpenAPI 3.1 that FastAPI writes), so `/docs` works on a machine with no
internet access and loads nothing from elsewhere.
"""

from __future__ import annotations

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def install(app: FastAPI, openapi_url: str) -> None:
    """Serve Swagger UI at `/docs` and its files under `/docs/assets`."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            # Swagger UI would otherwise ask an outside service to validate the document.
            swagger_ui_parameters={"validatorUrl": None})
