"""``fingerspell serve``: the local web app (camera page, practice mode, letter chart)."""

from __future__ import annotations

import argparse

NAME = "serve"
HELP = "start the web app: fingerspell in a browser tab, with a practice mode (http://localhost:8000)"
ORDER = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    from fingerspell.apps.web.options import add_arguments as add

    add(p)


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
