"""The screening room over HTTP (Starlette): one HTML page with a little JavaScript, and a JSON API.

Every request is served by the one ``Room`` of the process; refused requests answer
``{"error": ...}`` naming the file and the record (404 unknown record, 409 a decision
changed meanwhile, 400 anything else).
"""

from __future__ import annotations

import io
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .agreement import final_decisions
from .room import Room
from .store import Conflict, ReviewError

STATIC = Path(__file__).parent / "static"


def application(room: Room) -> Starlette:
    async def page(request: Request) -> Response:
        return FileResponse(STATIC / ("agreement.html" if request.url.path == "/agreement" else "room.html"))

    async def state(request: Request) -> Response:
        return JSONResponse(room.state(request.query_params.get("reviewer", ""), request.query_params.get("record")))

    async def decide(request: Request) -> Response:
        body = await _json(request)
        return JSONResponse(room.decide(body.get("reviewer", ""), str(body.get("record_id", "")), body.get("label", ""), _request_id(body),
                                        note=body.get("note", ""), reason=body.get("reason", ""), expected=body.get("expected")))

    async def undo(request: Request) -> Response:
        body = await _json(request)
        return JSONResponse(room.undo(body.get("reviewer", ""), _request_id(body)))

    async def agreement(request: Request) -> Response:
        return JSONResponse(room.agreement())

    async def resolve(request: Request) -> Response:
        body = await _json(request)
        return JSONResponse(room.resolve(body.get("resolver", ""), str(body.get("record_id", "")), body.get("label", ""), _request_id(body), note=body.get("note", ""), reason=body.get("reason", "")))

    async def export(request: Request) -> Response:
        with room.lock:
            table = final_decisions(room.review)
        buffer = io.StringIO()
        table.to_csv(buffer, index=False)
        return Response(buffer.getvalue(), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{room.review.path.stem}_decisions.csv"'})

    async def refused(request: Request, error: Exception) -> Response:
        status = 409 if isinstance(error, Conflict) else 404 if "is not in this review" in str(error) else 400
        return JSONResponse({"error": str(error)}, status_code=status)

    routes = [
        Route("/", page), Route("/agreement", page),
        Route("/api/state", state), Route("/api/decisions", decide, methods=["POST"]), Route("/api/undo", undo, methods=["POST"]),
        Route("/api/agreement", agreement), Route("/api/resolutions", resolve, methods=["POST"]),
        Route("/export/decisions.csv", export),
        Mount("/static", StaticFiles(directory=STATIC)),
    ]
    return Starlette(routes=routes, exception_handlers={ReviewError: refused})


async def _json(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the request body is not a JSON object")
    return body


def _request_id(body: dict) -> str:
    request = str(body.get("request", "")).strip()
    if not request:
        raise ReviewError("every decision needs a request id (the page makes one per click)")
    return request
