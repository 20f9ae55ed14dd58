"""Annotated videos are H.264 where imageio-ffmpeg's ffmpeg is bundled, mp4v otherwise, and the
run transcript says which; both read back frame for frame."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fingerspell.errors import FingerspellError
from fingerspell.quietlog import is_noise
from fingerspell.runtime.video_out import bundled_ffmpeg, open_video_writer, probe_codec


def _frames(n=20, size=(321, 241)):
    for i in range(n):
        f = np.zeros((size[1], size[0], 3), np.uint8)
        f[:, (i * 10) % size[0]:(i * 10) % size[0] + 30] = (0, 0, 255)
        yield f


def test_bundled_ffmpeg_is_installed():
    assert bundled_ffmpeg() is not None, "imageio-ffmpeg is a dependency: pip install -e ."


@pytest.mark.parametrize("codec, probed", [("h264", "h264"), ("mp4v", "mpeg4")])
def test_writer_codec_reads_back(tmp_path, codec, probed):
    path = tmp_path / f"v_{codec}.mp4"
    w = open_video_writer(path, 10, (321, 241), codec=codec)
    assert w.codec == codec
    for f in _frames():
        w.write(f)
    w.release()
    assert probe_codec(path) == probed
    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n += 1
        assert abs(frame.shape[0] - 241) <= 1 and abs(frame.shape[1] - 321) <= 1  # odd sides: even for yuv420p
    assert n == 20


def test_auto_falls_back_to_mp4v_for_avi(tmp_path):
    w = open_video_writer(tmp_path / "v.avi", 10, (64, 48))
    assert w.codec == "mp4v"
    w.release()
    with pytest.raises(FingerspellError, match="no H.264 encoder"):
        open_video_writer(tmp_path / "v2.avi", 10, (64, 48), codec="h264")


def test_run_writes_h264_and_says_so(data, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(10):
        shutil.copy(data / "mon95" / "user_7" / f"L{i % 5}.jpg", folder / f"{i:03d}.jpg")
    out, transcript = tmp_path / "annotated.mp4", tmp_path / "t.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-m", "fingerspell", "run", "--source", str(folder), "--out", str(out),
                          "--transcript", str(transcript), "--no-progress"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert not [line for line in res.stderr.splitlines() if is_noise(line.encode())]  # quiet logs
    assert probe_codec(out) == "h264"
    assert json.loads(transcript.read_text())["video_codec"] == "h264"
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
