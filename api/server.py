"""``condenser serve``: uvicorn around ``create_app`` (one app per worker process)."""

from __future__ import annotations


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, log_level: str = "info") -> None:
    """Run the service; settings come from ``CONDENSER_*`` environment variables and ``.env``."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                proxy_headers=True, server_header=False)
