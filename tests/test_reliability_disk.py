"""Full disks: every writer publishes whole files or nothing, paired files together or not at all,
and every command ends with one "no space left on the device holding X" line and a non-zero exit.

A full disk is simulated without root: the CLI runs in a child process whose file-size limit
(RLIMIT_FSIZE, SIGXFSZ ignored) makes writes past a few kilobytes fail, or a write fails on
purpose inside :func:`publish_together`.
"""

from __future__ import annotations

import errno
import subprocess
import sys

import numpy as np
import pytest
from _reliability import cli, error_lines, leftovers, photo, tiny_checkpoint, tiny_dataset

from fingerspell.cli import main
from fingerspell.errors import FingerspellError
from fingerspell.fileio import DiskFullError, atomic_write_bytes, publish_together, write_together

USER_BYTES = b"the user's own file\n"


def _full_disk_line(proc) -> str:
    lines = error_lines(proc)
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert "no space left on the device holding" in lines[0], lines[0]
    return lines[0]


# --- fileio ------------------------------------------------------------------------------------------

def test_publish_together_is_all_or_nothing(tmp_path):
    a, b = tmp_path / "a.onnx", tmp_path / "a.json"
    a.write_bytes(USER_BYTES)
    with pytest.raises(DiskFullError, match="no space left on the device holding"):
        with publish_together([a, b]) as (ta, tb):
            ta.write_bytes(b"new model")
            raise OSError(errno.ENOSPC, "No space left on device")  # the card's write fails
    assert a.read_bytes() == USER_BYTES and not b.exists() and leftovers(tmp_path) == []
    write_together({a: b"model", b: b"card"})
    assert a.read_bytes() == b"model" and b.read_bytes() == b"card" and leftovers(tmp_path) == []


def test_publish_together_keeps_old_files_on_interrupt(tmp_path):
    a, b = tmp_path / "report.json", tmp_path / "confusion.png"
    a.write_bytes(USER_BYTES)
    b.write_bytes(USER_BYTES)
    with pytest.raises(KeyboardInterrupt):
        with publish_together([a, b]) as (ta, tb):
            ta.write_bytes(b"{}")
            raise KeyboardInterrupt
    assert a.read_bytes() == USER_BYTES and b.read_bytes() == USER_BYTES and leftovers(tmp_path) == []
    with pytest.raises(FingerspellError, match="must differ"):
        with publish_together([a, a]):
            pass


def test_atomic_write_under_file_size_limit_leaves_nothing(tmp_path):
    target = tmp_path / "big.bin"
    target.write_bytes(USER_BYTES)
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
            "from fingerspell.fileio import atomic_write_bytes, DiskFullError\n"
            "try:\n"
            f"    atomic_write_bytes({str(target)!r}, b'x' * 100000)\n"
            "except DiskFullError as e:\n"
            "    print(e); sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert f"no space left on the device holding {tmp_path}" in proc.stdout
    assert target.read_bytes() == USER_BYTES and leftovers(tmp_path) == []
    assert atomic_write_bytes(target, b"ok").read_bytes() == b"ok"


def test_video_writer_refuses_a_truncated_video(tmp_path):
    code = ("import resource, signal, sys, numpy as np\n"
            "from fingerspell.apps.headless import AtomicVideoWriter\n"
            "from fingerspell.errors import FingerspellError\n"
            f"w = AtomicVideoWriter({str(tmp_path / 'ok.mp4')!r}, 10, (160, 120))\n"
            "[w.write(np.full((120, 160, 3), i, np.uint8)) for i in range(5)]\n"
            "w.commit()\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
            f"w = AtomicVideoWriter({str(tmp_path / 'out.mp4')!r}, 10, (320, 240))\n"
            "rng = np.random.default_rng(0)\n"
            "[w.write(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)) for i in range(20)]\n"
            "try:\n"
            "    w.commit()\n"
            "except FingerspellError as e:\n"
            "    print(e); sys.exit(3)\n")
    (tmp_path / "out.mp4").write_bytes(USER_BYTES)  # replaced only by a whole video
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "no space left on the device holding" in proc.stdout
    assert "moov atom" not in proc.stderr  # FFmpeg's own complaint is not shown
    assert (tmp_path / "out.mp4").read_bytes() == USER_BYTES and leftovers(tmp_path) == []
    import cv2

    cap = cv2.VideoCapture(str(tmp_path / "ok.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5


def test_video_and_transcript_appear_together_or_not_at_all(tmp_path):
    from fingerspell.apps.headless import AtomicVideoWriter

    out = tmp_path / "out.mp4"
    out.write_bytes(USER_BYTES)
    (tmp_path / "blocker").write_bytes(b"a file where a folder should be")
    w = AtomicVideoWriter(out, 10, (160, 120))
    for i in range(5):
        w.write(np.full((120, 160, 3), 40 * i, np.uint8))
    with pytest.raises(OSError):  # the transcript cannot be written: the video is not published either
        w.commit(together={tmp_path / "blocker" / "t.json": b"{}"})
    assert out.read_bytes() == USER_BYTES and leftovers(tmp_path) == []
    w = AtomicVideoWriter(out, 10, (160, 120))
    for i in range(5):
        w.write(np.full((120, 160, 3), 40 * i, np.uint8))
    w.commit(together={tmp_path / "t.json": b"{}"})
    assert out.stat().st_size > 1000 and (tmp_path / "t.json").read_bytes() == b"{}"
    assert leftovers(tmp_path) == []


# --- commands ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))


def test_run_on_full_disk(tmp_path, data, checkpoint):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(4):
        (frames / f"{i:03d}.jpeg").symlink_to(photo(data, "a", i))
    out = tmp_path / "out" / "video.mp4"
    out.parent.mkdir()
    out.write_bytes(USER_BYTES)
    proc = cli(["run", "--source", frames, "--model", checkpoint, "--out", out, "--overwrite", "--no-progress"],
               fsize=2048)
    _full_disk_line(proc)
    assert out.read_bytes() == USER_BYTES and leftovers(out.parent) == []
    transcript = tmp_path / "out" / "t.json"
    proc = cli(["run", "--source", frames, "--model", checkpoint, "--transcript", transcript, "--no-progress"],
               fsize=2048)
    _full_disk_line(proc)
    assert not transcript.exists() and leftovers(out.parent) == []


def test_export_on_full_disk_writes_neither_file(tmp_path, checkpoint):
    out = tmp_path / "model.onnx"
    proc = cli(["export", "--checkpoint", checkpoint, "--out", out, "--no-check"], fsize=4096)
    _full_disk_line(proc)
    assert not out.exists() and not out.with_suffix(".json").exists() and leftovers(tmp_path) == []
    out.write_bytes(USER_BYTES)
    out.with_suffix(".json").write_bytes(USER_BYTES)
    proc = cli(["export", "--checkpoint", checkpoint, "--out", out, "--overwrite", "--no-check"], fsize=4096)
    _full_disk_line(proc)
    assert out.read_bytes() == USER_BYTES and out.with_suffix(".json").read_bytes() == USER_BYTES
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out), "--overwrite", "--no-check"]) == 0
    assert out.stat().st_size > 1000 and out.with_suffix(".json").stat().st_size > 100


def test_evaluate_on_full_disk_writes_no_report_without_its_plot(tmp_path, checkpoint):
    from fingerspell.data.schema import save_dataset

    ds = save_dataset(tiny_dataset(), tmp_path / "d.npz")
    out = tmp_path / "eval"
    args = ["evaluate", "--checkpoint", str(checkpoint), "--data", str(ds), "--out", str(out), "--overwrite"]
    out.mkdir()
    (out / "report.json").write_bytes(USER_BYTES)
    proc = cli(args, fsize=12000)  # the small report fits, the plot does not: neither appears
    _full_disk_line(proc)
    assert (out / "report.json").read_bytes() == USER_BYTES
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["confusion.png", "report.json", "report.txt"]


def test_detect_annotate_on_full_disk(tmp_path, data):
    out = tmp_path / "annotated"
    proc = cli(["detect", photo(data, "b", 0), "--annotate", out], fsize=4096)
    _full_disk_line(proc)
    assert sorted(p.name for p in out.iterdir()) == []


def test_dataset_save_on_full_disk(tmp_path):
    from fingerspell.data.schema import save_dataset

    target = tmp_path / "d.npz"
    target.write_bytes(USER_BYTES)
    code = ("import resource, signal, sys\n"
            "sys.path.insert(0, 'tests')\n"
            "from _reliability import tiny_dataset\n"
            "from fingerspell.data.schema import save_dataset\n"
            "from fingerspell.fileio import DiskFullError\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
            "try:\n"
            f"    save_dataset(tiny_dataset(200), {str(target)!r}, overwrite=True)\n"
            "except DiskFullError as e:\n"
            "    print(e); sys.exit(3)\n")
    from _reliability import REPO

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 3, proc.stderr
    assert target.read_bytes() == USER_BYTES and leftovers(tmp_path) == []
    save_dataset(tiny_dataset(200), target, overwrite=True)
    assert np.load(target)["labels"].shape == (200,)


def test_train_on_full_disk(tmp_path):
    from fingerspell.data.schema import save_dataset

    ds = save_dataset(tiny_dataset(60), tmp_path / "d.npz")
    run_dir = tmp_path / "run"
    proc = cli(["train", "--data", ds, "--model", "landmark_mlp", "--out", run_dir, "--epochs", "1",
                "--val-fraction", "0.3", "--model-arg", "hidden=[16]", "--no-augment"], fsize=3000)
    _full_disk_line(proc)
    assert leftovers(run_dir) == [] if run_dir.exists() else True
    assert not (run_dir / "best.safetensors").exists()


def test_build_dataset_on_full_disk_writes_neither_dataset_nor_report(tmp_path, data):
    src = tmp_path / "src"
    for letter in "ab":
        (src / letter.upper()).mkdir(parents=True)
        for i in range(2):
            (src / letter.upper() / f"{i}.jpg").symlink_to(photo(data, letter, i))
    out = tmp_path / "out" / "d.npz"
    out.parent.mkdir()
    out.write_bytes(USER_BYTES)
    proc = cli(["build-dataset", src, "--out", out, "--overwrite", "--workers", "1", "--cache-dir",
                tmp_path / "cache", "--quiet"], fsize=4096)  # the report fits, the dataset does not
    _full_disk_line(proc)
    assert out.read_bytes() == USER_BYTES and sorted(p.name for p in out.parent.iterdir()) == ["d.npz"]


def test_collect_on_full_disk_leaves_no_partial_photo(tmp_path, data):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        (frames / f"{i:03d}.jpg").symlink_to(data / "mon95" / "user_3" / f"A{i}.jpg")
    out = tmp_path / "collected"
    proc = cli(["collect", "--label", "A", "--count", "2", "--out", out, "--source", frames, "--interval", "0",
                "--no-progress"], fsize=2048)
    _full_disk_line(proc)
    assert not out.exists()  # no partial photo, and the folders it made for none are gone too
