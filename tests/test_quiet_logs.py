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
