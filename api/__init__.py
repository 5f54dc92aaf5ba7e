"""Condenser's HTTP service: the compression API and an OpenAI/Anthropic-compatible proxy.

    from api import create_app, Settings
    app = create_app(Settings(redis_url="redis://localhost:6379/0"))
"""

from api.app import create_app
from api.settings import Settings

__all__ = ["Settings", "create_app"]
