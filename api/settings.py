"""Service settings, read from ``CONDENSER_*`` environment variables or a ``.env`` file.

Every field is documented in the README's settings table; ``Settings()`` with nothing set is a working
deployment: Redis on localhost (degraded to the in-process cache when it is absent), no proxy auth, fail open.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: how the proxy treats the provider-cached prefix (``api.proxy.cache_policy``)
CachePolicy = Literal["preserve", "stable", "aggressive"]


class Settings(BaseSettings):
    """Deployment settings of the Condenser service (environment prefix ``CONDENSER_``)."""

    # hide_input_in_errors: a bad setting's error must not print the keys among the inputs
    model_config = SettingsConfigDict(env_prefix="CONDENSER_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    # cache
    redis_url: str | None = Field("redis://127.0.0.1:6379/0",
                                  description="Redis (or Redis Cluster entry) URL; empty: in-process cache only")
    redis_cluster: bool = Field(False, description="the URL names a Redis Cluster node (cluster client)")
    cache_ttl_s: int = Field(86_400, ge=1, description="time to live of a cached compression in Redis")
    cache_max_entry_bytes: int = Field(2_000_000, ge=1, description="larger results are not cached")
    lru_entries: int = Field(2048, ge=0, description="in-process LRU entries in front of Redis")
    redis_timeout_s: float = Field(0.25, gt=0, description="connect/operation timeout; Redis never stalls a request")
    redis_retry_s: float = Field(2.0, gt=0, description="wait before reconnecting to a Redis that failed")
    vector_cache: bool = Field(True, description="also keep sentence vectors in Redis, per tenant, for every "
                               "replica to reuse")

    # compression
    method: str = Field("condenser", description="default method")
    rate: float = Field(0.33, gt=0, le=1, description="default fraction of tokens kept")
    min_tokens: int = Field(1024, ge=0, description="proxy: compress message parts longer than this")
    compress_roles: list[str] = Field(["system", "user", "tool"], description="proxy: roles whose content may be compressed")
    compress_timeout_s: float = Field(30.0, gt=0, description="longer compressions fail open (or closed)")
    compress_concurrency: int = Field(2, ge=1, description="compressions running at once (CPU-bound)")
    fail_open: bool = Field(True, description="on compressor error/timeout forward the original prompt")
    preload: bool = Field(False, description="load the default method's model at start-up")
    otel: bool = Field(False, description="OpenTelemetry tracing (the otel extra); the standard OTEL_* exporter "
                       "variables turn it on too")

    # upstreams
    openai_base_url: str = Field("https://api.openai.com/v1", description="upstream of /v1/chat/completions and /v1/models")
    anthropic_base_url: str = Field("https://api.anthropic.com/v1", description="upstream of /v1/messages")
    model_routes: dict[str, str] = Field(default_factory=dict,
                                         description='model prefix -> upstream base URL, e.g. {"mistral-": "https://api.mistral.ai/v1"}')
    upstream_api_key: str | None = Field(None, description="the openai route's provider key for clients that send a "
                                         "proxy key (upstream_api_keys.openai wins; never sent to another route)")
    upstream_timeout_s: float = Field(600.0, gt=0, description="read timeout towards the upstream")
    upstream_connect_timeout_s: float = Field(5.0, gt=0, description="connect timeout towards the upstream")

    # limits and access
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="larger request bodies get 413")
    max_batch_items: int = Field(64, ge=1, description="items in one /v1/compress/batch call")
    api_keys: list[str] = Field(default_factory=list, description="proxy keys; empty: no proxy auth")
    rate_limit_per_minute: int = Field(0, ge=0, description="requests per tenant per minute; 0: unlimited")
    tenant_header: str = Field("X-Condenser-Tenant", description="optional sub-tenant header, scoped under the key")

    # back-pressure
    compress_queue: int = Field(16, ge=0, description="compressions waiting for a slot, per replica; beyond "
                                "it CONDENSER_OVERLOAD applies (/v1/compress: 503 with Retry-After)")
    overload: Literal["fail-open", "reject"] = Field(
        "fail-open", description="proxy, queue full: forward uncompressed at once (fail-open) or answer 503 "
        "with Retry-After (reject)")
    ready_when_overloaded: bool = Field(True, description="/readyz with the compression queue full: status "
                                        "overloaded with 200 (true: a load balancer keeps the replica) or 503")

    # input limits, checked before a body is parsed
    max_json_depth: int = Field(64, ge=2, le=200, description="request bodies nesting arrays/objects deeper get 400 "
                                "(at most 200: the JSON library refuses deeper)")
    max_messages: int = Field(4096, ge=1, description="proxy: more messages in one request get 413")
    max_parts: int = Field(16384, ge=1, description="proxy: more content parts (strings and blocks) in one request "
                           "get 413")
    max_headers: int = Field(100, ge=16, description="requests with more headers get 431")
    max_header_bytes: int = Field(32768, ge=1024, description="requests whose headers (names and values) take more "
                                  "bytes get 431")

    # upstream keys per route, and the checkpoints the API may load
    upstream_api_keys: dict[str, str] = Field(
        default_factory=dict, description='provider key per upstream route, sent only to that route when a client '
        'authenticates with a proxy key: {"openai": "…", "anthropic": "…", "<a model_routes prefix>": "…"}; a route '
        'without one refuses proxy-key callers (403)')
    checkpoints: dict[str, str] = Field(
        default_factory=dict, description='checkpoints the API may load, name -> folder or hub id, e.g. '
        '{"llmlingua2": "/models/llmlingua2"}; a method uses the one named after it, a request may pick another '
        'by name (options.checkpoint), never by path')
    cache_policy: CachePolicy = Field(
        "aggressive", description="proxy: the provider-cached prefix (up to Anthropic's last cache_control, "
        "OpenAI's messages before the last user one) is left as sent (preserve), compressed without the question "
        "so its bytes repeat (stable), or compressed for the question like the rest (aggressive)")

    #: ``user:password`` taken out of an upstream URL, per route; never in a repr, a dump or a log line
    _basic_auth: dict[str, tuple[str, str]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _userinfo_out_of_urls(self) -> Settings:
        """``http://user:pw@host/v1`` becomes ``http://host/v1`` plus a Basic credential for that route, so the
        password cannot reach a log, an error or a trace through the URL (``api.proxy.upstream`` sends it)."""
        found: dict[str, tuple[str, str] | None] = {}
        self.openai_base_url, found["openai"] = split_userinfo(self.openai_base_url)
        self.anthropic_base_url, found["anthropic"] = split_userinfo(self.anthropic_base_url)
        for prefix, url in list(self.model_routes.items()):
            self.model_routes[prefix], found[prefix] = split_userinfo(url)
        self._basic_auth = {route: auth for route, auth in found.items() if auth is not None}
        return self

    def upstream_basic_auth(self, route: str) -> tuple[str, str] | None:
        """``(user, password)`` given in the URL of upstream ``route`` (``openai``, ``anthropic`` or a
        ``model_routes`` prefix), or None."""
        return self._basic_auth.get(route)

    @model_validator(mode="after")
    def _keys_name_routes(self) -> Settings:
        """A provider key must name a route that exists, so a typo cannot leave a route keyless silently."""
        builtin = {"openai", "anthropic"}
        if clash := builtin & set(self.model_routes):
            raise ValueError(f"model_routes prefixes {sorted(clash)} clash with the built-in route names")
        if unknown := set(self.upstream_api_keys) - builtin - set(self.model_routes):
            raise ValueError(f"upstream_api_keys names unknown routes {sorted(unknown)}; routes: openai, "
                             f"anthropic or a model_routes prefix")
        return self

    @field_validator("redis_url", "upstream_api_key", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("openai_base_url", "anthropic_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def __repr_args__(self):  # never show keys in a repr (logs, tracebacks)
        for name, value in super().__repr_args__():
            yield name, ("***" if name in {"api_keys", "upstream_api_key", "upstream_api_keys"} and value else value)


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its ``user:password@`` part, and that part decoded (None when there is none)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    credential = (unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), credential
