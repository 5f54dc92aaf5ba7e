"""A real uvicorn server on loopback for the client, LangChain and playground tests.

``serve(app)`` runs any ASGI app on 127.0.0.1 (a free port) in a thread and yields its base URL.
``service_app()`` is the Condenser service under test: ``api.app.create_app`` when the API package is
importable, else a minimal stand-in with the same ``/v1/compress`` contract (JSON in, CompressionResult
fields plus ``cached`` out) that calls ``compressor.compress`` and serves ``api/static`` at ``/playground``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields ``http://127.0.0.1:PORT``."""
    uvicorn = pytest.importorskip("uvicorn")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def service_app() -> Any:
    """The real API app when it exists, else the stand-in."""
    try:
        from api.app import create_app
    except ImportError:
        return stand_in_app()
    try:
        return create_app()
    except TypeError:  # a factory that insists on its settings object
        from api.settings import Settings

        return create_app(Settings())


class Body(BaseModel):
    """The ``/v1/compress`` request (module level: FastAPI resolves the annotation by name)."""

    context: str | list[str]
    query: str | None = None
    rate: float | None = None
    target_tokens: int | None = None
    method: str = "condenser"
    options: dict[str, Any] = Field(default_factory=dict)


def stand_in_app() -> Any:
    """A minimal FastAPI app with the service's ``/v1/compress`` and ``/v1/methods`` contract."""
    fastapi = pytest.importorskip("fastapi")
    from fastapi.responses import JSONResponse
    from fastapi.staticfiles import StaticFiles

    from compressor import available_methods, compress

    app = fastapi.FastAPI()
    cache: dict[str, dict[str, Any]] = {}

    @app.post("/v1/compress")
    def post_compress(body: Body) -> JSONResponse:
        key = body.model_dump_json()
        if key in cache:
            return JSONResponse({**cache[key], "cached": True})
        try:
            result = compress(body.context, body.query, rate=body.rate, target_tokens=body.target_tokens,
                              method=body.method, **body.options)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        cache[key] = result.model_dump(mode="json")
        return JSONResponse({**cache[key], "cached": False})

    @app.get("/v1/methods")
    def get_methods() -> dict[str, list[str]]:
        return {"methods": available_methods()}

    if STATIC.is_dir():
        app.mount("/playground", StaticFiles(directory=STATIC, html=True), name="playground")
    return app
