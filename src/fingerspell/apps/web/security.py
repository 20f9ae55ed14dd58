"""Who may connect and how much they may send.

The origin check: a browser sends ``Origin`` with every WebSocket; a page may connect only when
it came from this server itself, i.e. the origin's host:port equals the ``Host`` the browser
asked for *and* that host is an IP address, ``localhost`` or this machine's name (a DNS
rebinding page has a domain name of its own), or when the origin is listed in
``--allow-origin``. A client without an ``Origin`` header (a script, the load test) is not a
web page and may connect.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Iterable, Optional
from urllib.parse import urlsplit


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def local_names() -> set:
    names = {"localhost"}
    try:
        name = socket.gethostname().lower()
        names |= {name, f"{name}.local", socket.getfqdn().lower()}
    except OSError:
        pass
    return names


def origin_problem(origin: Optional[str], host: Optional[str], allowed: Iterable[str] = (),
                   names: Optional[set] = None) -> Optional[str]:
    """Why a WebSocket from ``origin`` (asking for ``host``) is refused, or None if it may connect."""
    if origin is None:
        return None
    origin = origin.strip().rstrip("/").lower()
    allowed = {a.strip().rstrip("/").lower() for a in allowed}
    if "*" in allowed or origin in allowed:
        return None
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"origin {origin!r} is not a web page of this server: open the page from this server"
    netloc = parts.netloc
    if ":" not in netloc.rsplit("]", 1)[-1]:
        netloc += ":443" if parts.scheme == "https" else ":80"
    want = (host or "").strip().lower()
    if want and ":" not in want.rsplit("]", 1)[-1]:
        want += ":443" if parts.scheme == "https" else ":80"
    hostname = parts.hostname or ""
    if netloc != want:
        return (f"origin {origin} is not this server ({host}): open the page from this server, or start it with "
                f"--allow-origin {origin}")
    if not (_is_ip(hostname) or hostname in (names if names is not None else local_names())):
        return (f"origin {origin} reaches this server through the name {hostname!r}, which is not this machine's: "
                f"open it by IP address or localhost, or start the server with --allow-origin {origin}")
    return None


class RateCap:
    """A token bucket: at most ``fps`` frames a second on average, bursts of one second."""

    def __init__(self, fps: float, clock=time.monotonic) -> None:
        self.fps = float(fps)
        self._clock = clock
        self._tokens = self.fps
        self._last = clock()
        self._last_note = -1e9

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self.fps, self._tokens + (now - self._last) * self.fps)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def should_explain(self) -> bool:
        """True at most once a second: say why frames are dropped without flooding the client."""
        now = self._clock()
        if now - self._last_note >= 1.0:
            self._last_note = now
            return True
        return False
