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
    results: list[CompressResponse | BatchItemError] = []
    for index, got in enumerate(await state.service.compress_batch(body.items, caller.tenant)):
        results.append(got if isinstance(got, CompressResponse) else _item_error(index, got))
    return BatchResponse(results=results)


def _item_error(index: int, exc: APIError | CompressionTimeout) -> BatchItemError:
    """A batch item's error entry, its message and parameter prefixed with ``items.<index>``."""
    if isinstance(exc, CompressionTimeout):
        return BatchItemError(error=ErrorDetail(message=f"items.{index}: {exc}", type="compression_timeout"))
    return BatchItemError(error=ErrorDetail(message=f"items.{index}: {exc.message}", type=exc.type,
                                            param=f"items.{index}.{exc.param}"))


@router.get("/methods", response_model=MethodsResponse)
async def methods(request: Request) -> MethodsResponse:
    """The compression methods this service offers, and its default."""
    return MethodsResponse(methods=available_methods(), default=state_of(request).settings.method)
