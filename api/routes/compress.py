"""``/v1/compress``, its batch form, and ``/v1/methods``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.errors import APIError
from api.schemas import (
    BatchItemError,
    BatchRequest,
    BatchResponse,
    CompressRequest,
    CompressResponse,
    ErrorDetail,
    ErrorResponse,
    MethodsResponse,
)
from api.service import CompressionTimeout
from api.state import CallerDep, state_of
from compressor import available_methods

router = APIRouter(prefix="/v1", tags=["compression"])

ERRORS = {r: {"model": ErrorResponse} for r in (400, 401, 413, 422, 429, 503)}


@router.post("/compress", response_model=CompressResponse, responses=ERRORS)
async def compress(body: CompressRequest, request: Request, caller: CallerDep) -> CompressResponse:
    """Compress ``context`` for ``query`` (the SDK's ``compress()`` over HTTP); ``cached`` says if it was reused."""
    try:
        return await state_of(request).service.compress(body, caller.tenant)
    except CompressionTimeout as exc:
        raise APIError(503, str(exc), type="compression_timeout") from exc


@router.post("/compress/batch", response_model=BatchResponse, responses=ERRORS)
async def compress_batch(body: BatchRequest, request: Request, caller: CallerDep) -> BatchResponse:
    """Compress many items; a failing item gets an error entry, the others still succeed. The sentences of
    all uncached items are embedded in one batched pass first."""
    state = state_of(request)
    limit = state.settings.max_batch_items
    if len(body.items) > limit:
        raise APIError(422, f"items: at most {limit} items per batch, got {len(body.items)}", param="items")
    await state.service.warm_batch(body.items, caller.tenant)  # one batched embedding pass for all items
    results: list[CompressResponse | BatchItemError] = []
    for index, item in enumerate(body.items):  # in turn: the service bounds CPU-bound work anyway
        try:
            results.append(await state.service.compress(item, caller.tenant))
        except APIError as exc:
            results.append(BatchItemError(error=ErrorDetail(message=f"items.{index}: {exc.message}",
                                                            type=exc.type, param=f"items.{index}.{exc.param}")))
        except CompressionTimeout as exc:
            results.append(BatchItemError(error=ErrorDetail(message=f"items.{index}: {exc}",
                                                            type="compression_timeout")))
    return BatchResponse(results=results)


@router.get("/methods", response_model=MethodsResponse)
async def methods(request: Request) -> MethodsResponse:
    """The compression methods this service offers, and its default."""
    return MethodsResponse(methods=available_methods(), default=state_of(request).settings.method)
