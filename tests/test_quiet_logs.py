"""MediaPipe / TFLite / absl log lines stay off stderr unless --verbose (real CLI runs in a subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from fingerspell.quietlog import is_noise

NOISE = re.compile(r"^[IWEF]\d{4} |TensorFlow Lite|absl::InitializeLog|inference_feedback_manager|landmark_projection")


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for key in ("GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL", "ABSL_MIN_LOG_LEVEL"):
        env.pop(key, None)
    return subprocess.run([sys.executable, "-m", "fingerspell", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_predict_stderr_has_no_native_log_lines(data):
    photo = str(data / "mon95" / "user_7" / "A0.jpg")
    quiet = _cli("predict", photo, "--json")
    assert quiet.returncode == 0, quiet.stderr
    assert '"letter": "A"' in quiet.stdout
    assert [line for line in quiet.stderr.splitlines() if NOISE.search(line)] == []
    assert quiet.stderr.strip() == "1 image: 1 with a hand, 0 without; mean confidence 1.00; letters A:1"
    # The same run with --verbose shows them: the check above would catch them.
    loud = _cli("predict", photo, "--json", "--verbose")
    assert loud.returncode == 0
    assert any(NOISE.search(line) for line in loud.stderr.splitlines())


def test_errors_and_python_output_still_get_through(tmp_path):
    res = _cli("predict", str(tmp_path / "missing.jpg"))
    assert res.returncode == 2
    assert res.stderr.strip() == f"fingerspell predict: error: {tmp_path / 'missing.jpg'} does not exist: give image " \
                                 "files or folders of images"


def test_noise_pattern_matches_only_native_lines():
    assert is_noise(b"W0000 00:00:1795689462.564841    6503 inference_feedback_manager.cc:114] Feedback manager")
    assert is_noise(b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.")
    assert is_noise(b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")
    assert not is_noise(b"Traceback (most recent call last):")
    assert not is_noise(b"fingerspell run: warning: the camera stopped")
    assert not is_noise(b"WARNING: something a user must see")
    assert is_noise(b"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55f0f75bb740] moov atom not found")  # FFmpeg in OpenCV
    assert is_noise(b"[av1 @ 0x55f08dbee0c0] Failed to get pixel format.")
    assert not is_noise(b"[1/3] reading photos")


def test_a_broken_video_is_one_line_without_ffmpeg_noise(data, tmp_path):
    """A video cut off before its index (a copy that stopped): FFmpeg's own complaint stays hidden."""
    from _tiny_model import word_video

    cut = tmp_path / "cut.mp4"
    cut.write_bytes(word_video(data).read_bytes()[:20000])
    res = _cli("run", "--source", str(cut), "--no-progress")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"fingerspell run: error: cannot read video {cut}: it is corrupt or in a format neither OpenCV nor "
        "ffmpeg can decode (try an .mp4 or .avi, or an image folder)"]
