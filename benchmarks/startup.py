"""Start-up time: how long a user waits before the first letter, in fresh processes.

Each run starts a new Python (nothing cached in the process; the operating system's file cache
warm after the first run) and times:

* ``import fingerspell`` and ``fingerspell.load()`` (the shipped model, ready to read);
* the first ``predict`` of a real photo after that (MediaPipe's graph built, the hand found);
* ``fingerspell predict PHOTO`` on the command line, start to exit.

    python benchmarks/startup.py [--runs 5] [--photo P]

The median of ``--runs`` runs is printed as a Markdown table with the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine  # noqa: E402

_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import fingerspell
reader = fingerspell.load()
t1 = time.perf_counter()
letter = reader.predict(sys.argv[1]).letter
t2 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "first_predict": t2 - t1, "letter": letter,
                  "torchvision": "torchvision" in sys.modules}))
"""


def default_photo() -> Path:
    photos = sorted((data_root() / "massey" / "a").glob("*.jpeg"))
    if not photos:
        raise SystemExit(f"no photo under {data_root() / 'massey' / 'a'}: give --photo")
    return photos[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--photo", type=Path, default=None)
    args = ap.parse_args(argv)
    photo = args.photo or default_photo()
    cli = [str(Path(sys.executable).with_name("fingerspell")), "predict", str(photo)]
    rows = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", _PROBE, str(photo)], capture_output=True, text=True, check=True)
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        t = time.perf_counter()
        subprocess.run(cli, capture_output=True, check=True)
        probe["cli"] = time.perf_counter() - t
        rows.append(probe)
    med = {k: statistics.median(r[k] for r in rows) for k in ("load", "first_predict", "cli")}
    print(f"{machine()}; {args.runs} runs, median; photo {photo.name} read {rows[0]['letter']}; torchvision imported: "
          f"{rows[0]['torchvision']}")
    print("| import + load() | first predict | `fingerspell predict PHOTO` |")
    print("|---|---|---|")
    print(f"| {med['load']:.2f} s | {med['first_predict']:.2f} s | {med['cli']:.2f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
