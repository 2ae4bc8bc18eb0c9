"""The fan-out baseline: a bare Starlette websocket endpoint that broadcasts one payload."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

sockets: set[WebSocket] = set()


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    sockets.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        sockets.discard(websocket)


async def broadcast(request: Request) -> JSONResponse:
    """Answers first, then sends, as our server answers a mutation once it has committed and
    its subscribers hear of it afterwards: both are timed from their answer."""
    payload = (await request.body()).decode()
    return JSONResponse({"sending": len(sockets)}, background=BackgroundTask(send_all, payload))


async def send_all(payload: str) -> None:
    for websocket in list(sockets):
        await websocket.send_text(payload)


async def count(request: Request) -> JSONResponse:
    return JSONResponse({"sockets": len(sockets)})


app = Starlette(routes=[WebSocketRoute("/ws", endpoint), Route("/broadcast", broadcast,
                                                                 methods=["POST"]),
                        Route("/healthz", count)])
