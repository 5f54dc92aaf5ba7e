"""Prometheus metrics of one app instance (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """Requests, latencies, tokens saved, cache hits/misses, compressor time, upstream errors, Redis state,
    compression load (running, queue depth)."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.requests = Counter("condenser_requests_total", "HTTP requests", ["route", "status"], registry=r)
        self.latency = Histogram("condenser_request_seconds", "request latency", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.tokens_in = Counter("condenser_tokens_in_total", "tokens before compression", registry=r)
        self.tokens_saved = Counter("condenser_tokens_saved_total", "tokens removed by compression", registry=r)
        self.cache_hits = Counter("condenser_cache_hits_total", "cache hits", ["layer"], registry=r)
        self.cache_misses = Counter("condenser_cache_misses_total", "cache misses", registry=r)
        self.compress_seconds = Histogram("condenser_compress_seconds", "compressor time", ["method"],
                                          buckets=LATENCY_BUCKETS, registry=r)
        self.compress_failures = Counter("condenser_compress_failures_total", "compressor errors and timeouts",
                                         ["kind"], registry=r)
        self.upstream_errors = Counter("condenser_upstream_errors_total", "upstream failures", ["kind"],
                                       registry=r)
        self.redis_up = Gauge("condenser_redis_up", "1 when Redis is reachable, 0 when degraded", registry=r)
        self.compress_running = Gauge("condenser_compress_running", "compressions holding a slot (abandoned "
                                      "ones until they stop)", registry=r)
        self.compress_waiting = Gauge("condenser_compress_queue_depth", "compressions waiting for a slot",
                                      registry=r)
        # provider prompt caching (api.proxy.cache_policy): saved = uncompressed - sent, which can be negative
        self.prefix_tokens = Counter("condenser_prefix_tokens_total", "proxy: tokens of the provider-cacheable "
                                     "prefix as sent", ["policy"], registry=r)
        self.est_input_cost = Counter("condenser_est_input_cost_usd_total", "proxy: estimated input cost in USD "
                                      "at list and cached-token prices, uncompressed and as sent", ["scenario"],
                                      registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
