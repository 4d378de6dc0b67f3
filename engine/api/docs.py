"""The interactive API documentation, served entirely by this server.

Swagger UI comes from a pip package that ships its files (`swagger-ui-bundle-v2`, Swagger UI
5, which reads the OpenAPI 3.1 that FastAPI writes), so `/docs` works on a machine with no
internet access and loads nothing from elsewhere.
"""

from __future__ import annotations

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def install(app: FastAPI) -> None:
    """Serve Swagger UI at `/docs` and its files under `/docs/assets`."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui")
    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


# A module-level route that finds its application in the request, not a function made per
# application: FastAPI keeps what it learns of each route function in caches of 4,096
# entries, so a function closed over its application would keep that application alive (its
# runtime and database engine with it) long after it was used, as in a test run that builds
# a thousand applications.
def docs(request: Request) -> HTMLResponse:
    """Swagger UI for this application's OpenAPI document."""
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "", title=f"{app.title} API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        # Swagger UI would otherwise ask an outside service to validate the document.
        swagger_ui_parameters={"validatorUrl": None})
