"""The whole application: the JSON API and the HTML pages over one runtime."""

from __future__ import annotations

from fastapi import FastAPI

from engine import web
from engine.api.app import create_app
from engine.services.runtime import Runtime


def build_app(runtime: Runtime) -> FastAPI:
    app = create_app(runtime)
    if runtime.settings.sandbox_enabled:
        # The simulated agencies, so the demo fetches people and addresses with no network;
        # development only, since their synthetic people would answer for real citizens.
        from connectors.simulators.app import create_sandbox_app

        app.mount("/sandbox", create_sandbox_app())
    web.install(app)
    return app
