"""The web app's server: the page, one WebSocket session per browser tab, and ``/api/read`` (a whole
recorded video sent by the page, read and forgotten: :mod:`.video_read`).

:func:`create_app` builds the FastAPI app (tests drive it with ``TestClient``); :func:`serve` runs
it with uvicorn. Every binary message gets exactly one JSON reply (see :mod:`.protocol`), the
heavy work (JPEG decoding, MediaPipe, the model) runs on the connection's worker thread
(:mod:`.sessions`), and a connection's state ends with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Tuple

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from fingerspell import __version__
from fingerspell.apps.web.protocol import FrameError, parse_command, split_frame
from fingerspell.apps.web.security import RateCap, origin_problem
from fingerspell.apps.web.sessions import Connection, RecognizerFactory
from fingerspell.errors import FingerspellError

STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
log = logging.getLogger("fingerspell.web")
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
                               "media-src 'self' blob: mediastream:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True)
class ServerConfig:
    """Where to listen and what each connection may send."""

    host: str = "127.0.0.1"
    port: int = 8000
    allow_origins: Tuple[str, ...] = field(default_factory=tuple)
    max_frame_bytes: int = 1_000_000
    max_pixels: int = 1920 * 1080
    max_fps: float = 40.0
    max_clients: int = 8
    max_errors: int = 50  # bad frames in a row before the connection is closed
    max_video_bytes: int = 300_000_000  # "Read a video": the largest file the page may send

    @property
    def ws_max_size(self) -> int:
        """uvicorn's hard limit: well above the cap, so an oversized frame gets a clear reply."""
        return max(4 * self.max_frame_bytes, self.max_frame_bytes + (1 << 20))


def create_app(config: Optional[ServerConfig] = None, factory: Optional[Callable[[], object]] = None) -> FastAPI:
    """The app. ``factory`` builds each connection's recognizer (default: ``serve``'s defaults)."""
    from fingerspell.apps.web.options import default_options
    from fingerspell.labels import CLASSES

    config = config or ServerConfig()
    factory = factory or RecognizerFactory(default_options())
    app = FastAPI(title="fingerspell", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config, app.state.factory = config, factory
    app.state.connections = {}
    app.state.reading = asyncio.Lock()  # one video read at a time
    app.state.totals = {"connections": 0, "frames": 0, "errors": 0, "refused": 0}

    @app.middleware("http")
    async def _headers(request, call_next):
        response = await call_next(request)
        response.headers.update(_HEADERS)
        return response

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/info")
    async def info():
        return {"version": __version__, "classes": list(CLASSES), "max_fps": config.max_fps,
                "max_frame_bytes": config.max_frame_bytes, "max_clients": config.max_clients}

    @app.get("/api/status")
    async def status():
        return {"open": len(app.state.connections), **app.state.totals}

    @app.post("/api/read")
    async def read(request: Request, name: str = "video.mp4"):
        return await _read_request(app, request, name)

    @app.websocket("/ws")
    async def ws_endpoint(ws: WebSocket):
        await _connection(app, ws)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _read_request(app: FastAPI, request: Request, name: str) -> JSONResponse:
    """POST /api/read: one whole video, streamed into a private temporary folder, read
    (apps/web/video_read.py) and removed; or a one-line error."""
    import tempfile

    from starlette.concurrency import run_in_threadpool

    from fingerspell.apps.web.video_read import read_video, video_suffix

    config: ServerConfig = app.state.config
    problem = origin_problem(request.headers.get("origin"), request.headers.get("host"), config.allow_origins)
    if problem:
        return JSONResponse({"error": problem}, status_code=403)
    name = Path(name or "video").name
    try:
        suffix = video_suffix(name)
    except FingerspellError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    if app.state.reading.locked():
        return JSONResponse({"error": "another video is being read: try again when it is done"}, status_code=429)
    async with app.state.reading:
        with tempfile.TemporaryDirectory(prefix="fingerspell-read-") as tmp:
            path, size = Path(tmp) / f"upload{suffix}", 0
            with open(path, "wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > config.max_video_bytes:
                        return JSONResponse({"error": f"{name} is over {config.max_video_bytes / 1e6:g} MB: cut it "
                                             "shorter, or read it with 'fingerspell run --source FILE'"},
                                            status_code=413)
                    f.write(chunk)
            try:
                return JSONResponse(await run_in_threadpool(read_video, app.state.factory, path, name))
            except FingerspellError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except Exception as exc:  # noqa: BLE001 - the page gets one line, the log the trace
                log.exception("reading an uploaded video failed")
                return JSONResponse({"error": f"reading {name} failed on the server ({type(exc).__name__}: {exc}); "
                                     "try 'fingerspell run --source FILE'"}, status_code=500)


async def _deny(ws: WebSocket, text: str) -> None:
    """Refuse before accepting: an HTTP 403 with the reason where the server can send one."""
    try:
        await ws.send_denial_response(PlainTextResponse(text, status_code=403))
    except RuntimeError:
        await ws.close(code=1008, reason=text[:120])


async def _connection(app: FastAPI, ws: WebSocket) -> None:
    config: ServerConfig = app.state.config
    problem = origin_problem(ws.headers.get("origin"), ws.headers.get("host"), config.allow_origins)
    if problem:
        app.state.totals["refused"] += 1
        log.warning("refused a WebSocket: %s", problem)
        await _deny(ws, problem)
        return
    await ws.accept()
    if len(app.state.connections) >= config.max_clients:
        app.state.totals["refused"] += 1
        await ws.send_text(_dump({"type": "error", "code": "full", "message":
                                  f"the server already has {config.max_clients} connections: try again later"}))
        await ws.close(code=1013)
        return
    conn = Connection(app.state.factory, config.max_pixels)
    app.state.connections[conn.id] = conn
    app.state.totals["connections"] += 1
    log.info("connection %d opened", conn.id)
    try:
        await conn.start()
        await ws.send_text(_dump({"type": "hello", "connection": conn.id, "max_fps": config.max_fps,
                                  "max_frame_bytes": config.max_frame_bytes}))
        await _serve(app, ws, conn)
    except WebSocketDisconnect:
        pass
    except Exception as exc:  # a broken session must not take the server down; say what broke
        log.exception("connection %d failed", conn.id)
        await _try_close(ws, 1011, {"type": "error", "code": "server", "message": f"{type(exc).__name__}: {exc}"})
    finally:
        try:
            await conn.close()
        finally:
            del app.state.connections[conn.id]
            app.state.totals["frames"] += conn.frames
        log.info("connection %d closed after %d frames", conn.id, conn.frames)


async def _serve(app: FastAPI, ws: WebSocket, conn: Connection) -> None:
    config: ServerConfig = app.state.config
    rate = RateCap(config.max_fps)
    bad_in_a_row = 0
    while True:
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            return
        if msg.get("bytes") is not None:
            reply = await _frame(conn, rate, msg["bytes"], config)
        else:
            reply = await _command(conn, msg.get("text") or "")
        if reply["type"] == "error":
            app.state.totals["errors"] += 1
            bad_in_a_row += 1
        elif reply["type"] != "dropped":
            bad_in_a_row = 0
        await ws.send_text(_dump(reply))
        if bad_in_a_row >= config.max_errors:
            await _try_close(ws, 1008, {"type": "error", "code": "closed", "message":
                                        f"{bad_in_a_row} bad messages in a row: closing this connection"})
            return


async def _frame(conn: Connection, rate: RateCap, data: bytes, config: ServerConfig) -> dict:
    if not rate.allow():
        note = f"over {config.max_fps:g} frames a second: this frame was dropped" if rate.should_explain() else ""
        return {"type": "dropped", "code": "rate", "message": note}
    try:
        t, jpeg = split_frame(data, config.max_frame_bytes)
        return await conn.read(jpeg, t)
    except FrameError as exc:
        return exc.to_message(conn.frames)


async def _command(conn: Connection, text: str) -> dict:
    try:
        try:
            msg = json.loads(text)
        except ValueError:
            raise FrameError("bad_command", "text messages must be JSON commands such as {\"type\": \"space\"}") \
                from None
        kind, index = parse_command(msg)
        return await conn.command(kind, index)
    except FrameError as exc:
        return exc.to_message(conn.frames)


async def _try_close(ws: WebSocket, code: int, message: dict) -> None:
    try:
        await ws.send_text(_dump(message))
        await ws.close(code=code)
    except Exception:  # the client may already be gone
        pass


def _dump(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"))


def network_note(host: str, port: int, tls: bool) -> str:
    """What the terminal says on start: the address, and a clear note when it is open to the network."""
    scheme = "https" if tls else "http"
    if host in LOOPBACK:
        return f"fingerspell serve: open {scheme}://{'localhost' if host != '::1' else '[::1]'}:{port}/ " \
               "(this computer only; --host 0.0.0.0 opens it to your network)"
    lines = [f"fingerspell serve: listening on {scheme}://{host}:{port}/",
             "  NOTE: this server is OPEN TO THE NETWORK: anyone who can reach this machine on port "
             f"{port} can use it (no images are kept).",
             "  Phones and tablets give the camera only to https pages (or localhost): add --ssl-certfile/"
             "--ssl-keyfile, see docs/web.md."]
    if not tls:
        lines.append("  Without TLS other devices will not get a camera.")
    return "\n".join(lines)


def check_listen(host: str, port: int, certfile: Optional[str] = None, keyfile: Optional[str] = None) -> None:
    """Fail now, in one line, where uvicorn would fail later with a traceback or a bare ERROR line:
    a TLS certificate or key that cannot be read, an address that cannot be listened on."""
    import socket
    import ssl

    if certfile:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            why = "not a PEM certificate and its key" if isinstance(exc, ssl.SSLError) else exc.strerror or str(exc)
            raise FingerspellError(f"cannot use --ssl-certfile {certfile} with --ssl-keyfile {keyfile}: {why}; "
                                   "give a PEM certificate and its private key (docs/web.md)") from None
    try:  # every address the name stands for, bound as asyncio's create_server binds them for uvicorn
        with contextlib.ExitStack() as held:
            for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                                      flags=socket.AI_PASSIVE):
                sock = held.enter_context(socket.socket(family, kind, proto))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
    except OSError as exc:
        why = exc.strerror or str(exc)
        fix = "stop the program using it or pick another with --port N" if exc.errno == errno.EADDRINUSE else \
            "use a port above 1023 (--port N)" if exc.errno == errno.EACCES else \
            "give an address of this machine with --host (127.0.0.1 for this computer only, 0.0.0.0 for all)"
        raise FingerspellError(f"cannot listen on {host} port {port}: {why}: {fix}") from None


def serve(config: ServerConfig, factory: RecognizerFactory, ssl_certfile: Optional[str] = None,
          ssl_keyfile: Optional[str] = None) -> int:
    """Check the address and TLS files, build one recognizer (so a bad --model fails now), then run
    uvicorn until Ctrl-C."""
    import uvicorn

    check_listen(config.host, config.port, ssl_certfile, ssl_keyfile)
    factory.check()
    app = create_app(config, factory)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(network_note(config.host, config.port, bool(ssl_certfile)), file=sys.stderr, flush=True)
    uvicorn.run(app, host=config.host, port=config.port, ws="websockets-sansio", ws_max_size=config.ws_max_size,
                log_level="warning", ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    return 0
