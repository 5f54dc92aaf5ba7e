"""``condenser serve``: uvicorn around ``create_app`` (one app per worker process)."""

from __future__ import annotations

import copy
from typing import Any


def log_config(log_level: str = "info") -> dict[str, Any]:
    """uvicorn's logging set-up with every handler behind ``api.redaction.RedactingFilter`` (keys in request
    lines, headers and bodies are masked), each line of a request ending with its id (``api.request_id``),
    and Condenser's own loggers printed beside uvicorn's. A dict, so
    each worker process builds the same filters when uvicorn configures its logging."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "api.redaction.RedactingFilter"},
                         "request_id": {"()": "api.request_id.RequestIdFilter"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact", "request_id"]
    for formatter in config["formatters"].values():  # a request's lines end with its id
        formatter["fmt"] += "%(request_tag)s"
    config["loggers"]["condenser"] = {"handlers": ["default"], "level": log_level.upper()}
    return config


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, log_level: str = "info") -> None:
    """Run the service; settings come from ``CONDENSER_*`` environment variables and ``.env``."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                log_config=log_config(log_level), proxy_headers=True, server_header=False)
