"""Small routes beside the playground: the site icon (no 404 in every browser's console) and its sample text."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse

ICON = Path(__file__).parent / "static" / "favicon.svg"

router = APIRouter(include_in_schema=False)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The icon browsers ask the site root for; an SVG, which every current browser takes under this name."""
    return FileResponse(ICON, media_type="image/svg+xml", headers={"cache-control": "public, max-age=86400"})


@lru_cache(maxsize=1)
def _sample() -> dict[str, str]:
    from condenser.demo import ANSWER, QUESTION

    text = resources.files("condenser.samples").joinpath("handbook.md").read_text(encoding="utf-8")
    return {"context": text, "query": QUESTION, "answer": ANSWER}


@router.get("/playground/sample.json")
async def sample() -> JSONResponse:
    """The bundled handbook and a question about it (``make demo``'s), for the playground's sample button."""
    return JSONResponse(_sample())
