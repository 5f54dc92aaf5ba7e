"""OpenTelemetry spans for the pipeline, when an SDK tracer provider is installed; otherwise nothing.

Only the OpenTelemetry *API* is used here (no SDK, no exporter): the service (``api.telemetry``), the
``opentelemetry-instrument`` launcher or an application embedding the SDK installs the provider. Until one
is installed ``active()`` is False and every helper is a no-op costing one ``isinstance`` check.

Spans carry counts, names and timings only: never prompt text, questions or keys. A failing stage is marked
with its exception's type name, not its message (a message can quote the input).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

try:
    from opentelemetry import trace
    from opentelemetry.trace import ProxyTracerProvider, SpanKind, Status, StatusCode
except ImportError:  # the API ships with FastAPI; a bare SDK install may lack it
    trace = None

F = TypeVar("F", bound=Callable[..., Any])
TRACER = "condenser"


def active() -> bool:
    """Whether spans are recorded: the API is importable and a real tracer provider is installed."""
    return trace is not None and not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


@contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None, client: bool = False) -> Iterator[Any]:
    """A child span of the current one named ``name`` (None when tracing is off); ``client``: a call out."""
    if not active():
        yield None
        return
    kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
    with trace.get_tracer(TRACER).start_as_current_span(
            name, kind=kind, attributes=dict(attributes or {}), record_exception=False,
            set_status_on_exception=False) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            current.set_attribute("error.type", type(exc).__name__)
            raise


def stage(name: str):
    """The span of one pipeline stage (``condenser.stage.<name>``); none for the ``total`` pseudo-stage."""
    if name == "total":
        return _nothing()
    return span(f"condenser.stage.{name}")


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def result_attributes(result: Any) -> dict[str, Any]:
    """Token counts and method of a ``CompressionResult``, as span attributes."""
    return {"condenser.method": result.method, "condenser.tokens.original": result.original_tokens,
            "condenser.tokens.compressed": result.compressed_tokens, "condenser.tokens.budget": result.budget,
            "condenser.encoding": result.encoding, "condenser.kept_spans": len(result.kept or [])}


def traced_run(fn: F) -> F:
    """Wrap ``Pipeline.run`` in a ``condenser.compress`` span that ends with the result's token counts."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not active():
            return fn(*args, **kwargs)
        with span("condenser.compress") as current:
            result = fn(*args, **kwargs)
            current.set_attributes(result_attributes(result))
            return result

    return run  # type: ignore[return-value]
