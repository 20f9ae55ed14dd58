"""``fingerspell serve``: the local web app (camera page, practice mode, letter chart)."""

from __future__ import annotations

import argparse

NAME = "serve"
HELP = "start the web app: fingerspell in a browser tab, with a practice mode (http://localhost:8000)"
ORDER = 2


def _port(value: str) -> int:
    n = int(value)
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"port {n} is not in 0-65535")
    return n


def add_arguments(p: argparse.ArgumentParser) -> None:
    from fingerspell.apps import add_model_arguments, add_recognizer_arguments

    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 opens it to the "
                        "network)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--allow-origin", action="append", default=[], metavar="URL",
                   help="also accept WebSockets from pages at URL (e.g. https://example.org:8443); repeatable")
    p.add_argument("--max-clients", type=int, default=8, help="connections at once (default 8)")
    p.add_argument("--max-fps", type=float, default=40.0, help="frames a second each connection may send (40)")
    p.add_argument("--max-frame-kb", type=int, default=1000, help="largest frame in KB (default 1000)")
    p.add_argument("--ssl-certfile", default=None, help="TLS certificate (phones need https for the camera)")
    p.add_argument("--ssl-keyfile", default=None, help="TLS key for --ssl-certfile")
    add_model_arguments(p)
    add_recognizer_arguments(p)  # the same reading options as the Tk window (threshold, holds, words, ...)
    if not any("--profile" in a.option_strings for a in p._actions):
        p.add_argument("--profile", default=None, metavar="P",
                       help="a calibration profile (name or path, from fingerspell calibrate) to apply")


def run(args: argparse.Namespace) -> int:
    from fingerspell.apps.web.server import ServerConfig, serve
    from fingerspell.apps.web.sessions import RecognizerFactory
    from fingerspell.errors import FingerspellError

    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise FingerspellError("--ssl-certfile and --ssl-keyfile go together: give both or neither")
    if args.max_clients < 1 or args.max_fps <= 0 or args.max_frame_kb < 1:
        raise FingerspellError("--max-clients, --max-fps and --max-frame-kb must be positive")
    import torch

    torch.set_num_threads(max(1, args.threads))
    config = ServerConfig(host=args.host, port=args.port, allow_origins=tuple(args.allow_origin),
                          max_frame_bytes=args.max_frame_kb * 1000, max_fps=args.max_fps,
                          max_clients=args.max_clients)
    return serve(config, RecognizerFactory(args), ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
