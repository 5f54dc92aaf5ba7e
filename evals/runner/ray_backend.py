"""Spreading a run's units over a Ray cluster (``--ray``): local by default, ``$RAY_ADDRESS`` to join one.

Readers hold connection pools and are not sent over the wire: each worker process builds its own from
the run's reader options. Units travel in small batches so each worker loads the compressor's models once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from evals.runner.work import Unit

INSTALL_HINT = "--ray needs Ray: pip install 'condenser[ray]' (or: pip install ray)"
_REPO = str(Path(__file__).resolve().parents[2])


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(INSTALL_HINT) from exc
    return ray


@lru_cache(maxsize=4)
def _worker_reader(options: tuple):
    from evals.readers import ResponseCache, make_reader

    opts = dict(options)
    cache_dir = opts.pop("cache_dir", None)
    cache = ResponseCache(cache_dir) if opts["spec"] != "oracle-retention" else None
    return make_reader(opts.pop("spec"), cache=cache, **opts)


def _evaluate_batch(units: Sequence[Unit], reader_options: tuple, encoding: str, window: int | None) -> list:
    """Worker side: ("ok", row) or ("error", info) per unit, never raising (one bad item must not stop a run)."""
    from evals.runner.work import evaluate

    reader = _worker_reader(reader_options)
    out = []
    for unit in units:
        try:
            out.append(("ok", evaluate(unit, reader, encoding=encoding, window=window)))
        except Exception as exc:  # noqa: BLE001 - reported per unit, the run goes on
            out.append(("error", {"key": unit.key(reader.name), "error": f"{type(exc).__name__}: {exc}"}))
    return out


def _batches(units: Sequence[Unit], size: int) -> Iterator[list[Unit]]:
    for i in range(0, len(units), size):
        yield list(units[i : i + size])


def run_on_ray(
    units: Sequence[Unit],
    reader_options: dict,
    *,
    encoding: str,
    window: int | None,
    on_result: Callable[[str, dict], None],
    batch_size: int = 4,
) -> None:
    """Evaluate ``units`` on Ray, calling ``on_result(status, payload)`` on the driver as batches finish."""
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        ray.init(
            address=os.environ.get("RAY_ADDRESS"),
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={
                "env_vars": {"PYTHONPATH": _REPO, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
            },
        )
    try:
        remote = ray.remote(_evaluate_batch)
        options = tuple(sorted(reader_options.items()))
        pending = [remote.remote(b, options, encoding, window) for b in _batches(units, batch_size)]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for status, payload in ray.get(done[0]):
                on_result(status, payload)
    finally:
        if started:  # a cluster we joined or started ourselves is left the way we found it
            ray.shutdown()
