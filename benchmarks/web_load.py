"""Load test of the web app: N simulated browser tabs on loopback.

Starts ``fingerspell serve`` on a free loopback port (or uses ``--url``), then runs ``--clients``
clients for at most ``--seconds`` (or until ``--frames`` readings in all). Each client behaves as
the page does: it sends a real-photo JPEG frame (asl-alphabets test photos, 640x480, quality 80,
with the FST1 time header) at ``--fps``, keeps one frame in flight and drops the camera frames
that come while it waits. Reports per client the readings per second and the latency from a
frame sent to its reading received (p50/p90), errors, and the server's RSS over the run.

    .venv/bin/python benchmarks/web_load.py --clients 1 --seconds 30
    .venv/bin/python benchmarks/web_load.py --clients 4 --seconds 30
    .venv/bin/python benchmarks/web_load.py --clients 4 --fps 0 --frames 10000 --seconds 600   # memory
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import List, Optional, Sequence

import cv2
import numpy as np

from fingerspell.reading.photovideo import letterbox

LETTERS = "ABCLOVY"
MAX_CLIENTS = 16
MAX_SECONDS = 900


def photo_frames(data: Path, per_letter: int = 10) -> List[bytes]:
    """JPEGs of real photos, each letter's photos in a row (a held hand, then the next letter)."""
    out = []
    for letter in LETTERS:
        for f in sorted((data / "asl-alphabets" / "test" / letter).glob("*.jpg"))[:per_letter]:
            img = letterbox(cv2.imread(str(f)))
            out += [cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()] * 6
    if not out:
        raise SystemExit(f"no photos under {data}/asl-alphabets/test: set --data")
    return out


class Stats:
    def __init__(self) -> None:
        self.latencies: List[float] = []
        self.server_ms: List[float] = []
        self.stages: dict = {}
        self.readings = self.errors = self.sent = self.skipped = 0
        self.first: Optional[float] = None
        self.last: Optional[float] = None


async def client(url: str, origin: str, frames: List[bytes], fps: float, stop_at: float, budget: dict,
                 stats: Stats, offset: int) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, origin=origin, max_size=None) as ws:
        hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise SystemExit(f"server refused the client: {hello}")
        period = 1.0 / fps if fps > 0 else 0.0
        t0 = time.perf_counter()
        next_send = t0
        i = 0
        while time.perf_counter() < stop_at and budget["left"] > 0:
            now = time.perf_counter()
            if period and now < next_send:
                await asyncio.sleep(next_send - now)
            elif period and now - next_send > period:  # frames the camera made while we waited: dropped
                missed = int((now - next_send) / period)
                stats.skipped += missed
                next_send += missed * period
            sent = time.perf_counter()
            jpeg = frames[(offset + i) % len(frames)]
            await ws.send(struct.pack("<4sd", b"FST1", sent - t0) + jpeg)
            reply = json.loads(await ws.recv())
            got = time.perf_counter()
            stats.sent += 1
            if reply.get("type") == "reading":
                stats.readings += 1
                budget["left"] -= 1
                stats.latencies.append((got - sent) * 1000)
                stats.server_ms.append(reply["server_ms"])
                for k, v in reply["timings_ms"].items():
                    stats.stages.setdefault(k, []).append(v)
                stats.first = stats.first or got
                stats.last = got
            else:
                stats.errors += 1
            i += 1
            next_send += period


def cpu_seconds(pid: Optional[int]) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    if pid is None:
        return float("nan")
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def sample_rss(pid: Optional[int], samples: list, stop: asyncio.Event, budget: dict) -> None:
    while pid is not None and not stop.is_set():
        samples.append((budget["done"](), rss_mb(pid)))
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, model: Optional[str], extra: Sequence[str] = ()) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "fingerspell", "serve", "--port", str(port), "--max-fps", "1000", *extra]
    if model:
        cmd += ["--model", model]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"fingerspell serve exited: {proc.stderr.read()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("fingerspell serve did not answer in 120 s")


def pct(values: List[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def run(args, url: str, origin: str, pid: Optional[int]) -> dict:
    frames = photo_frames(args.data)
    stats = [Stats() for _ in range(args.clients)]
    budget = {"left": args.frames or 10**12}
    budget["done"] = lambda: sum(s.readings for s in stats)
    rss: list = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, rss, stop, budget))
    t0 = time.perf_counter()
    cpu0 = cpu_seconds(pid)
    stop_at = t0 + args.seconds
    await asyncio.gather(*(client(url, origin, frames, args.fps, stop_at, budget, s, k * 37)
                           for k, s in enumerate(stats)))
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    stop.set()
    await sampler
    out = summarise(args, stats, wall, rss)
    if pid is not None:
        out["server_cpu"] = {"cores_used": round(cpu / wall, 2),
                             "cpu_ms_per_frame": round(1000 * cpu / max(1, out["readings"]), 1)}
    return out


def summarise(args, stats: List[Stats], wall: float, rss: list) -> dict:
    per = []
    for k, s in enumerate(stats):
        span = (s.last - s.first) if s.first and s.last and s.last > s.first else wall
        per.append({"client": k, "readings": s.readings, "fps": round(s.readings / max(span, 1e-9), 1),
                    "p50_ms": round(pct(s.latencies, 50), 1), "p90_ms": round(pct(s.latencies, 90), 1),
                    "errors": s.errors, "camera_frames_dropped": s.skipped})
    every = [v for s in stats for v in s.latencies]
    out = {"clients": args.clients, "target_fps": args.fps, "seconds": round(wall, 1),
           "readings": sum(s.readings for s in stats), "errors": sum(s.errors for s in stats),
           "p50_ms": round(pct(every, 50), 1), "p90_ms": round(pct(every, 90), 1), "per_client": per,
           "server_ms_p50": round(pct([v for s in stats for v in s.server_ms], 50), 1),
           "stage_ms_mean": {k: round(float(np.mean([v for s in stats for v in s.stages.get(k, [])])), 2)
                             for k in stats[0].stages},
           "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}
    if rss:
        warm = [m for n, m in rss if n >= min(500, out["readings"] // 10)] or [m for _, m in rss]
        out["rss_mb"] = {"after_warmup": round(warm[0], 1), "end": round(warm[-1], 1), "max": round(max(warm), 1),
                         "samples": [[n, round(m, 1)] for n, m in rss[:: max(1, len(rss) // 20)]]}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=1, help=f"simulated tabs (1-{MAX_CLIENTS})")
    p.add_argument("--seconds", type=float, default=30, help=f"longest run (at most {MAX_SECONDS})")
    p.add_argument("--fps", type=float, default=30, help="camera frame rate per client (0: as fast as replies come)")
    p.add_argument("--frames", type=int, default=0, help="stop after this many readings in all (0: no limit)")
    p.add_argument("--url", default=None, help="an already running server (http://host:port); default: start one")
    p.add_argument("--model", default=None)
    p.add_argument("--no-second-look", action="store_true", help="serve with --no-second-look")
    p.add_argument("--data", type=Path, default=Path(os.environ.get("FINGERSPELL_DATA", "../shared/data")))
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.seconds <= MAX_SECONDS:
        p.error(f"--clients must be 1-{MAX_CLIENTS} and --seconds 0-{MAX_SECONDS}")
    proc = None
    if args.url is None:
        port = free_port()
        proc = start_server(port, args.model, ["--no-second-look"] if args.no_second_look else [])
        base = f"http://127.0.0.1:{port}"
    else:
        base = args.url.rstrip("/")
    try:
        result = asyncio.run(run(args, base.replace("http", "ws", 1) + "/ws", base, proc.pid if proc else None))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
    print(json.dumps({k: v for k, v in result.items() if k != "per_client"}))
    for row in result["per_client"]:
        print(json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
