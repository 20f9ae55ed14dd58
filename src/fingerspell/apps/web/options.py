"""The options of ``fingerspell serve`` (here, so the web app's defaults come from one place)."""

from __future__ import annotations

import argparse
from typing import Sequence


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


def default_options(argv: Sequence[str] = ()) -> argparse.Namespace:
    """The ``fingerspell serve`` options (defaults unless ``argv`` says otherwise)."""
    p = argparse.ArgumentParser()
    add_arguments(p)
    p.set_defaults(command="serve")  # as the CLI names it (a served session learns in the background)
    return p.parse_args(list(argv))
