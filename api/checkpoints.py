"""Which checkpoint a request through the API may load: only those the operator configured, by name.

``CONDENSER_CHECKPOINTS`` maps names to folders or hub ids. A method uses the entry named after it (else its
built-in default), and a request may pick another entry with ``options.checkpoint``. A request never names a
path or hub id itself: ``options.model_path`` gets one 400 whatever its value, so nothing about the server's
file system can be learned from the answer. And a request never starts a hub download: the checkpoint must
already be on the machine (a folder, or a snapshot in the Hugging Face cache), else the method is not ready.
The SDK in process still takes ``model_path`` freely; this is the service's policy only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.errors import APIError
from api.schemas import CompressRequest
from api.settings import Settings

#: method options that name a checkpoint by path or hub id: never accepted from a request
PATH_OPTIONS = frozenset({"model_path"})
#: the request option that picks a configured checkpoint by name
CHOICE_OPTION = "checkpoint"

PATH_REFUSED = ("a request cannot name a checkpoint path or hub id; pick one of this server's checkpoints "
                f"by name with options.{CHOICE_OPTION}")


class CheckpointUnavailable(RuntimeError):
    """The method's checkpoint is not on this machine (a server-side condition: the proxy fails open)."""

    def __init__(self, method: str):
        super().__init__(f"method {method} is not ready: its checkpoint is not available on this server "
                         "(the operator configures it in CONDENSER_CHECKPOINTS)")
        self.method = method


def _method(name: str) -> Any | None:
    from compressor.registry import available_methods, get_method

    return get_method(name) if name in available_methods() else None


def with_checkpoint(req: CompressRequest, settings: Settings) -> CompressRequest:
    """``req`` with the checkpoint it may use as a local ``model_path``; 400 for a path or hub id in its
    options or an unknown checkpoint name; ``CheckpointUnavailable`` when the checkpoint is not on the
    machine. A request whose method loads no checkpoint comes back unchanged."""
    refused = PATH_OPTIONS & req.options.keys()
    if refused:
        name = f"options.{min(refused)}"
        raise APIError(400, f"{name}: {PATH_REFUSED}", param=name)
    method_name = req.method or settings.method
    method = _method(method_name)
    takes_checkpoint = method is not None and "model_path" in method.options
    options = dict(req.options)
    chosen = options.pop(CHOICE_OPTION, None)
    if chosen is not None:
        param = f"options.{CHOICE_OPTION}"
        if not isinstance(chosen, str) or chosen not in settings.checkpoints:
            offered = ", ".join(sorted(settings.checkpoints)) or "none"
            raise APIError(400, f"{param}: not one of this server's checkpoints (configured: {offered})",
                           param=param)
        if not takes_checkpoint:
            raise APIError(400, f"{param}: method {method_name} loads no checkpoint", param=param)
        source = settings.checkpoints[chosen]
    elif takes_checkpoint:
        source = settings.checkpoints.get(method_name) or getattr(method, "default_checkpoint", None)
    else:
        return req
    if source is None:  # the method's own shipped weights
        return req
    options["model_path"] = str(_local(source, method_name))
    return req.model_copy(update={"options": options})


def check(req: CompressRequest, settings: Settings) -> APIError | None:
    """The 4xx ``with_checkpoint`` would give ``req`` (a batch item's error), or None."""
    try:
        with_checkpoint(req, settings)
    except APIError as exc:
        return exc
    except CheckpointUnavailable as exc:
        return unavailable_error(exc)
    return None


def unavailable_error(exc: CheckpointUnavailable) -> APIError:
    """``/v1/compress``'s answer for a method whose checkpoint is missing: 424 naming the method."""
    return APIError(424, str(exc), type="method_not_ready", param="method")


#: checkpoints found on the machine: a hub-cache lookup costs ~5 ms, a folder check microseconds
_found: dict[str, Path] = {}


def _local(source: str, method: str) -> Path:
    from compressor.models.checkpoints import local_folder

    folder = _found.get(source)
    if folder is None or not folder.is_dir():
        folder = local_folder(source)
        if folder is None:  # not remembered: a checkpoint downloaded later is found then
            raise CheckpointUnavailable(method)
        _found[source] = folder
    return folder
