"""``/v1/compress``, its batch form, and ``/v1/methods``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.checkpoints import CheckpointUnavailable, check, unavailable_error
from api.errors import APIError
from api.schemas import (
    BatchItemError,
    BatchRequest,
    BatchResponse,
    CompressRequest,
    CompressResponse,
    ErrorDetail,
    ErrorResponse,
    MethodInfo,
    MethodsResponse,
)
from api.service import CompressionTimeout
from api.settings import Settings
from api.state import CallerDep, state_of
from compressor import available_methods
from compressor.readiness import CHECKPOINT_METHODS, describe

router = APIRouter(prefix="/v1", tags=["compression"])

ERRORS = {r: {"model": ErrorResponse} for r in (400, 401, 413, 422, 424, 429, 503)}


def _not_ready(req: CompressRequest, settings: Settings) -> APIError | None:
    """424 naming the method when its checkpoint is not on this machine: the service never downloads one
    inside a request. A request that picks its own checkpoint is left to the option checks."""
    method = req.method or settings.method
    if method not in CHECKPOINT_METHODS or {"model_path", "checkpoint"} & req.options.keys():
        return None
    status = describe(method, settings.checkpoints.get(method))
    if status.ready:
        return None
    return APIError(424, f"method {method} is not ready: {status.detail}", type="method_not_ready", param="method")


@router.post("/compress", response_model=CompressResponse, responses=ERRORS)
async def compress(body: CompressRequest, request: Request, caller: CallerDep) -> CompressResponse:
    """Compress ``context`` for ``query`` (the SDK's ``compress()`` over HTTP); ``cached`` says if it was reused."""
    if (not_ready := _not_ready(body, state_of(request).settings)) is not None:
        raise not_ready
    try:
        return await state_of(request).service.compress(body, caller.tenant)
    except CompressionTimeout as exc:
        raise APIError(503, str(exc), type="compression_timeout") from exc
    except CheckpointUnavailable as exc:
        raise unavailable_error(exc) from exc


@router.post("/compress/batch", response_model=BatchResponse, responses=ERRORS)
async def compress_batch(body: BatchRequest, request: Request, caller: CallerDep) -> BatchResponse:
    """Compress many items; a failing item gets an error entry, the others still succeed. The sentences of
    all uncached items are embedded in one batched pass first."""
    state = state_of(request)
    limit = state.settings.max_batch_items
    if len(body.items) > limit:
        raise APIError(422, f"items: at most {limit} items per batch, got {len(body.items)}", param="items")
    refused = {i: e for i, item in enumerate(body.items)
               if (e := _not_ready(item, state.settings) or check(item, state.settings)) is not None}
    todo = [item for i, item in enumerate(body.items) if i not in refused]
    done = iter(await state.service.compress_batch(todo, caller.tenant) if todo else [])
    results: list[CompressResponse | BatchItemError] = []
    for index in range(len(body.items)):
        got = refused[index] if index in refused else next(done)
        results.append(got if isinstance(got, CompressResponse) else _item_error(index, got))
    return BatchResponse(results=results)


def _item_error(index: int, exc: APIError | CompressionTimeout) -> BatchItemError:
    """A batch item's error entry, its message and parameter prefixed with ``items.<index>``."""
    if isinstance(exc, CompressionTimeout):
        return BatchItemError(error=ErrorDetail(message=f"items.{index}: {exc}", type="compression_timeout"))
    param = f"items.{index}.{exc.param}" if exc.param else f"items.{index}"  # overloaded names no field
    return BatchItemError(error=ErrorDetail(message=f"items.{index}: {exc.message}", type=exc.type,
                                            param=param))


@router.get("/methods", response_model=MethodsResponse)
async def methods(request: Request) -> MethodsResponse:
    """The compression methods this service offers, its default, and which are ready (a checkpoint method
    without its checkpoint is not: ``detail`` says what it needs)."""
    settings = state_of(request).settings
    details = [describe(name, settings.checkpoints.get(name)) for name in available_methods()]
    return MethodsResponse(methods=available_methods(), default=settings.method,
                           details=[MethodInfo(name=s.name, description=s.description, ready=s.ready,
                                               detail=s.detail) for s in details])
