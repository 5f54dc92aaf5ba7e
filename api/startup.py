"""The one log line a starting service writes: what it will do, so a first-time operator sees it at once.

Upstreams, Redis, the default method, auth, the rate limit, fail-open and tracing. URLs lose any user,
password and query string; keys are only ever counted or named by route, never shown.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from api.proxy.upstream import provider_key
from api.settings import Settings


def safe_url(url: str) -> str:
    """``url`` without credentials, query string or fragment (``redis://:pw@host:6379/0`` -> ``redis://host:6379/0``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def summary(settings: Settings, redis: str, traced: bool, preloaded: bool) -> str:
    """The start-up line. ``redis``: ``up``, ``unreachable`` or ``off``; ``traced``: tracing installed;
    ``preloaded``: the default method's model was loaded at start-up."""
    routes = [f"openai {safe_url(settings.openai_base_url)}", f"anthropic {safe_url(settings.anthropic_base_url)}"]
    routes += [f"{prefix}* {safe_url(url)}" for prefix, url in sorted(settings.model_routes.items())]
    if settings.redis_url is None:
        cache = "redis off (in-process cache only)"
    elif redis == "up":
        cache = f"redis {safe_url(settings.redis_url)}"
    else:
        cache = f"redis {safe_url(settings.redis_url)} unreachable (in-process cache until it answers)"
    if settings.api_keys:
        routes_keyed = ["openai", "anthropic", *settings.model_routes]
        keyed = sorted(route for route in routes_keyed if provider_key(settings, route))
        auth = (f"auth on ({len(settings.api_keys)} proxy key{'s' * (len(settings.api_keys) != 1)}; "
                f"provider keys for {', '.join(keyed) if keyed else 'no route: clients send their own'})")
    else:
        auth = "auth off (any caller; clients' own provider keys pass through)"
    limit = (f"rate limit {settings.rate_limit_per_minute}/min per tenant" if settings.rate_limit_per_minute
             else "rate limit off")
    method = (f"default method {settings.method} at rate {settings.rate} "
              f"({'preloaded' if preloaded else 'loads on first use; CONDENSER_PRELOAD=true loads it now'})")
    return "; ".join([
        f"condenser ready: upstreams {', '.join(routes)}", cache, method, auth, limit,
        f"fail-open {'on' if settings.fail_open else 'off (compressor errors answer 503)'}",
        f"tracing {'on' if traced else 'off'}"])
