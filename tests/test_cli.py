"""The command line: help lists the subcommands, errors are one line without a traceback."""

from __future__ import annotations

import subprocess
import sys

from fingerspell.cli import main


def test_help_lists_subcommands(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert "detect" in out


def test_python_dash_m_and_one_line_errors(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"garbage")
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "detect", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    err = [ln for ln in proc.stderr.splitlines() if ln.startswith("fingerspell")]
    assert err and "bad.jpg" in err[0]
    assert "Traceback" not in proc.stderr


def test_detect_prints_landmarks(data, capsys):
    assert main(["detect", str(data / "mon95/user_3/A0.jpg")]) == 0
    out = capsys.readouterr().out
    assert '"handedness": "Right"' in out
