"""A webcam read by a reader that stalls now and then: frames timed when they came, or when read.

    OMP_NUM_THREADS=1 python benchmarks/camera_stalls.py [--stall 0.15 0.4] [--every 1.5] [--json F]

A webcam driver keeps a few buffers (OpenCV's V4L2 backend asks for 4): while the reader is busy
(the CPU shared with a profile fitted in the background, a garbage collection, another program),
the camera fills them and drops what comes after; the reader then finds up to four old frames
waiting and reads them in a burst. Timed when read, those frames' times are squeezed together and
a hand's tremor looks like movement; timed when they came (``runtime/live_frames.py``, a thread
taking each frame as the camera gives it; the reader gets the newest), they keep their real
spacing. No webcam here: a driver-like camera serves the frames of 10 words spelled with mon95
users' photos at 1.0 s a letter (phone_files.py's films, ``--reps`` films of each word), 30 a
second in real time, with 4 buffers; the reader reads them as ``live`` reads a camera, sleeping
``U(stall)`` seconds after a frame at random, on average every ``--every`` seconds. Words right as
spelled, for both ways of timing, with and without stalls.

    OMP_NUM_THREADS=1 python benchmarks/camera_stalls.py --looks [--pace 0.33] [--json F]

``--looks`` puts no stall in: the reader's own looks for other hands (``runtime/signing_hand.py``:
MediaPipe in image mode, up to three times, every 0.5-1.5 s) are what stalls it. Frames timed when
they came, the looks run in line (as before 2026-12-07) and on a worker thread
(``SigningHand.look_in_background``, what a camera gets now), at ``--pace`` seconds a letter.
"""

from __future__ import annotations

import argparse
import collections
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, write_results  # noqa: E402
from phone_files import VFR_WORDS, word_film  # noqa: E402


class DriverCamera:
    """Frames served at ``fps`` in real time into ``buffers`` buffers, as a webcam driver fills
    them: a frame that comes while every buffer is full is dropped; ``read`` takes the oldest."""

    def __init__(self, frames: list, fps: float = 30.0, buffers: int = 4) -> None:
        self.q: collections.deque = collections.deque()
        self.cond = threading.Condition()
        self.done = self.stop = False
        self.thread = threading.Thread(target=self._film, args=(frames, fps, buffers), daemon=True)
        self.thread.start()

    def _film(self, frames, fps, buffers) -> None:
        t0 = time.monotonic()
        for i, f in enumerate(frames):
            time.sleep(max(0.0, t0 + i / fps - time.monotonic()))
            with self.cond:
                if self.stop:
                    break
                if len(self.q) < buffers:
                    self.q.append(f)
                self.cond.notify()
        with self.cond:
            self.done = True
            self.cond.notify()

    def read(self):
        with self.cond:
            while not self.q and not self.done:
                self.cond.wait()
            return (True, self.q.popleft()) if self.q else (False, None)

    def release(self) -> None:
        with self.cond:
            self.stop = True


def read_word(reader, frames, timing: str, stall, every: float, rng, spent: list, background: bool = False) -> str:
    from fingerspell.api import _reading_parts
    from fingerspell.hands.detector import HandDetector
    from fingerspell.runtime.live_frames import LiveFrames
    from fingerspell.runtime.recognizer import Recognizer

    cam = DriverCamera(frames)
    ok, first = cam.read()
    live = LiveFrames(cam, first) if timing == "when it came" else None
    t0 = time.monotonic()
    with HandDetector(mode="video", max_hands=1) as det:
        decoder, opts = _reading_parts(None, False, None, False, live=True)
        rec = Recognizer(det, reader.classifier, reader.card, opts, decoder=decoder)
        rec.signing.look_in_background(background)
        item = (first, 0.0)
        while item is not None:
            t = time.perf_counter()
            rec.process(*item)
            spent.append(time.perf_counter() - t)
            if stall and rng.random() < 1.0 / (30.0 * every):
                time.sleep(rng.uniform(*stall))
            if live is not None:
                item = live.next()
            else:
                ok, frame = cam.read()
                item = (frame, time.monotonic() - t0) if ok else None
        rec.finish()
        rec.end_side_work()
    if live is not None:
        live.close()
    cam.release()
    return " ".join(w.spelled for w in rec.sentence.words)  # a word split in two reads wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stall", type=float, nargs=2, default=(0.15, 0.4), help="a stall's seconds, min max")
    ap.add_argument("--every", type=float, default=1.5, help="seconds between stalls on average")
    ap.add_argument("--seed", type=int, default=0, help="the stalls' draw")
    ap.add_argument("--reps", type=int, default=2, help="films of each word (other signers and draws)")
    ap.add_argument("--looks", action="store_true", help="no stalls: the looks for other hands in line or beside")
    ap.add_argument("--pace", type=float, default=1.0, help="seconds a letter in the films")
    ap.add_argument("--json", default=None, help="results file (default results/camera_stalls[_looks].json)")
    args = ap.parse_args()
    import fingerspell
    from fingerspell.hands.detector import HandDetector

    with HandDetector(mode="image", max_hands=1) as det:
        films = [(w, word_film(det, w, k + len(VFR_WORDS) * r, pace=args.pace)) for r in range(args.reps)
                 for k, w in enumerate(VFR_WORDS)]
    results = Path(__file__).resolve().parent / "results"
    if args.looks:
        return looks(args, films, args.json or str(results / "camera_stalls_looks.json"))
    args.json = args.json or str(results / "camera_stalls.json")
    rows, spent = {}, []
    with fingerspell.load() as reader:
        for stalls in (False, True):
            for timing in ("when read", "when it came"):
                key = f"{'stalls' if stalls else 'no stalls'}, timed {timing}"
                rng = np.random.default_rng(args.seed)
                read = [read_word(reader, f, timing, args.stall if stalls else None, args.every, rng, spent)
                        for _, f in films]
                rows[key] = read
                right = sum(r == w for r, (w, _) in zip(read, films))
                print(f"{key}: {right} of {len(films)}  {' '.join(read)}", flush=True)
    words = [w for w, _ in films]
    lines = [f"A webcam (4 driver buffers, 30 fps) read by a reader that stalls {args.stall[0]}-{args.stall[1]} s "
             f"every {args.every} s on average ({machine()}; the reader took {1000 * np.median(spent):.0f} ms a "
             f"frame, p90 {1000 * np.percentile(spent, 90):.0f} ms)", "",
             "| reader | frames timed | words right as spelled | read |", "|---|---|---|---|"]
    for key, read in rows.items():
        st, timing = key.split(", timed ")
        right = sum(r == w for r, w in zip(read, words))
        lines.append(f"| {st} | {timing} | {right} of {len(words)} | {' '.join(read)} |")
    write_results(args.json, {"machine": machine(), "stall_s": list(args.stall), "every_s": args.every,
                              "seed": args.seed, "words": words, "read": rows,
                              "frame_ms_median": 1000 * float(np.median(spent)),
                              "frame_ms_p90": 1000 * float(np.percentile(spent, 90))}, "\n".join(lines) + "\n")


def looks(args, films, out: str) -> None:
    """Words right with the looks for other hands in line and on a worker thread, no other stall."""
    import fingerspell

    words, rows, lines = [w for w, _ in films], {}, []
    with fingerspell.load() as reader:
        for background in (False, True):
            key = "beside the reading" if background else "in line"
            spent: list = []
            read = [read_word(reader, f, "when it came", None, args.every, None, spent, background) for _, f in films]
            right = sum(r == w for r, w in zip(read, words))
            rows[key] = {"read": read, "right": right, "frame_ms_median": 1000 * float(np.median(spent)),
                         "frame_ms_p95": 1000 * float(np.percentile(spent, 95)),
                         "frames_over_100ms": int(sum(x > 0.1 for x in spent)), "frames": len(spent)}
            r = rows[key]
            print(f"looks {key}: {right} of {len(words)}  {' '.join(read)}", flush=True)
            lines.append(f"| {key} | {right} of {len(words)} | {r['frame_ms_median']:.0f} / {r['frame_ms_p95']:.0f} ms "
                         f"| {r['frames_over_100ms']} of {r['frames']} | {' '.join(read)} |")
    head = [f"A webcam (4 driver buffers, 30 fps, frames timed when they came) spelling {len(words)} words at "
            f"{args.pace} s a letter; the reader's only stalls are its looks for other hands ({machine()})", "",
            "| looks | words right as spelled | frame median / p95 | frames over 100 ms | read |",
            "|---|---|---|---|---|"]
    write_results(out, {"machine": machine(), "pace_s": args.pace, "words": words, "looks": rows},
                  "\n".join(head + lines) + "\n")


if __name__ == "__main__":
    main()
