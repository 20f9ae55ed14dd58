"""Bad input ends with one clear line and the right exit code, never a silent exit 0.

Non-finite datasets, datasets without the model's input kind, empty or unreadable inputs, empty
option values, an output that is the input, a card with absurd sizes, Ctrl-C.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from _reliability import REPO, cli, error_lines, photo, tiny_checkpoint, tiny_dataset
from _tiny_model import letterbox, mon95

from fingerspell.cli import main
from fingerspell.data.schema import load_dataset, save_dataset
from fingerspell.errors import FingerspellError
from fingerspell.features import input_for


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))


def _one_error(capsys, code: int, rc: int = 2) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ": error:" in ln]
    assert code == rc and len(lines) == 1, err
    return lines[0]


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# --- datasets ------------------------------------------------------------------------------------------

def test_non_finite_values_are_refused_with_count_and_field(tmp_path):
    data = tiny_dataset(20)
    good = save_dataset(data, tmp_path / "good.npz")
    raw = dict(np.load(good))
    raw["vectors"][3, :2] = np.nan
    raw["vectors"][7, 5] = np.inf
    np.savez(tmp_path / "nan.npz", **raw)
    with pytest.raises(FingerspellError, match=r"'vectors' holds 3 non-finite values \(NaN or inf\) in 2 of 20 rows"):
        load_dataset(tmp_path / "nan.npz")
    data.landmarks[0, 0, 0] = np.nan
    with pytest.raises(FingerspellError, match="'landmarks' holds 1 non-finite"):
        save_dataset(data, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()
    np.savez(tmp_path / "seed.npz", images=np.full((2, 8, 8), np.nan, np.float32), labels=np.array([0, 1]))
    with pytest.raises(FingerspellError, match="'images' holds 128 non-finite"):
        load_dataset(tmp_path / "seed.npz")


def test_train_refuses_a_nan_dataset(tmp_path, capsys):
    raw = dict(np.load(save_dataset(tiny_dataset(20), tmp_path / "d.npz")))
    raw["vectors"][0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", **raw)
    rc = main(["train", "--data", str(tmp_path / "nan.npz"), "--model", "landmark_mlp", "--out",
               str(tmp_path / "run"), "--epochs", "1"])
    assert "non-finite" in _one_error(capsys, rc)
    assert not (tmp_path / "run" / "best.safetensors").exists()


def test_landmark_model_refuses_a_dataset_without_landmarks(tmp_path, capsys, checkpoint):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "seed.npz", images=rng.integers(0, 255, (6, 16, 16, 3), dtype=np.uint8),
             labels=np.array([0, 1, 2, 0, 1, 2]))
    seed = load_dataset(tmp_path / "seed.npz")
    input_for("mask").check_dataset(seed, "seed.npz")  # its images are masks
    with pytest.raises(FingerspellError, match="lacks the vectors a vector model reads: 6 of 6 rows"):
        input_for("vector").check_dataset(seed, "seed.npz")
    rc = main(["evaluate", "--checkpoint", str(checkpoint), "--data", str(tmp_path / "seed.npz")])
    assert "lacks the vectors" in _one_error(capsys, rc)
    rc = main(["train", "--data", str(tmp_path / "seed.npz"), "--model", "landmark_mlp", "--out",
               str(tmp_path / "run"), "--epochs", "1"])
    assert "lacks the vectors" in _one_error(capsys, rc)


def test_evaluate_zero_rows_and_foreign_classes(tmp_path, capsys, checkpoint):
    empty = save_dataset(tiny_dataset(0), tmp_path / "empty.npz")
    rc = main(["evaluate", "--checkpoint", str(checkpoint), "--data", str(empty)])
    line = _one_error(capsys, rc)
    assert "no rows" in line and "scores" not in line
    data = tiny_dataset(10)
    data.classes = ("alpha", "beta") + tuple(f"x{i}" for i in range(len(data.classes) - 2))
    foreign = save_dataset(data, tmp_path / "foreign.npz")
    rc = main(["evaluate", "--checkpoint", str(checkpoint), "--data", str(foreign)])
    assert "the model knows none of them" in _one_error(capsys, rc)


# --- model cards and paths --------------------------------------------------------------------------

def test_card_with_absurd_layer_size_is_refused_before_allocation(tmp_path, capsys, checkpoint):
    import shutil

    for suffix in (".safetensors", ".json"):
        shutil.copy(str(checkpoint) + suffix, tmp_path / f"huge{suffix}")
    card = json.loads((tmp_path / "huge.json").read_text())
    card["build_kwargs"]["hidden"] = [100_000_000_000]
    (tmp_path / "huge.json").write_text(json.dumps(card))
    t = time.perf_counter()
    rc = main(["export", "--checkpoint", str(tmp_path / "huge"), "--out", str(tmp_path / "h.onnx")])
    assert "outside the sane range" in _one_error(capsys, rc)
    assert time.perf_counter() - t < 30
    card["build_kwargs"]["hidden"] = [60000, 60000, 60000]  # each sane, together 7 G parameters
    (tmp_path / "huge.json").write_text(json.dumps(card))
    rc = main(["export", "--checkpoint", str(tmp_path / "huge"), "--out", str(tmp_path / "h.onnx")])
    assert "parameters, more than the limit" in _one_error(capsys, rc)


def test_existing_pth_is_not_reported_as_missing(tmp_path, capsys):
    import torch

    torch.save({"w": torch.zeros(2)}, tmp_path / "seed.pth")
    rc = main(["evaluate", "--checkpoint", str(tmp_path / "seed.pth"), "--data", str(tmp_path / "none.npz")])
    line = _one_error(capsys, rc)
    assert "not found" not in line and "seed.pth" in line and ".safetensors" in line


# --- detect --------------------------------------------------------------------------------------------

def test_detect_empty_folder_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc = main(["detect", str(tmp_path / "empty")])
    assert "no images in" in _one_error(capsys, rc)


def test_detect_skips_bad_files_and_lists_them(tmp_path, data):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a_good.jpeg").symlink_to(photo(data, "a", 0))
    (folder / "b_corrupt.jpg").write_bytes(b"not a jpeg")
    (folder / "c_folder.jpg").mkdir()
    locked = folder / "d_locked.jpeg"
    locked.write_bytes(photo(data, "c", 0).read_bytes())
    locked.chmod(0)
    (folder / "e_good.jpeg").symlink_to(photo(data, "b", 0))
    try:
        proc = cli(["detect", folder], as_user=True)
    finally:
        locked.chmod(0o644)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    paths = [json.loads(ln)["path"] for ln in proc.stdout.splitlines()]
    assert paths == [str(folder / "a_good.jpeg"), str(folder / "e_good.jpeg")]
    assert "c_folder.jpg is a folder" in proc.stderr and "b_corrupt.jpg: it is corrupt" in proc.stderr
    assert f"cannot read image {locked}: Permission denied" in proc.stderr
    assert "3 of 5 files could not be read" in proc.stderr


def test_detect_annotate_keeps_duplicate_basenames_apart(tmp_path, data):
    for sub, letter in (("dupA", "a"), ("dupB", "b")):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "x.jpeg").symlink_to(photo(data, letter, 0))
    out = tmp_path / "ann"
    out.mkdir()
    (out / "x_hands.png").write_bytes(b"the user's")
    rc = main(["detect", str(tmp_path / "dupA" / "x.jpeg"), str(tmp_path / "dupB" / "x.jpeg"), "--annotate", str(out)])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["x_hands.png", "x_hands_2.png", "x_hands_3.png"]
    assert (out / "x_hands.png").read_bytes() == b"the user's"
    a, b = (cv2.imread(str(out / n)) for n in ("x_hands_2.png", "x_hands_3.png"))
    assert a is not None and b is not None and (a.shape != b.shape or np.abs(a.astype(int) - b).sum() > 0)


# --- run -----------------------------------------------------------------------------------------------

def _video(path, data, frames: int = 5):
    img = cv2.imread(str(photo(data, "a", 0)))
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (img.shape[1], img.shape[0]))
    for _ in range(frames):
        w.write(img)
    w.release()
    return path


@pytest.mark.parametrize("extra, message", [
    (["--out", ""], "must not be empty"),
    (["--transcript", " "], "must not be empty"),
    (["--model", ""], "must not be empty"),
    (["--max-frames", "0"], "must be at least 1"),
    (["--max-frames", "-1"], "must be at least 1"),
])
def test_run_refuses_empty_names_and_frame_limits(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--source", str(tmp_path), *extra])
    assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("argv, option", [
    (["export", "--checkpoint", ""], "--checkpoint"),
    (["evaluate", "--checkpoint", "m", "--data", ""], "--data"),
    (["train", "--data", "d.npz", "--model", "landmark_mlp", "--out", " "], "--out"),
    (["detect", ""], "a path"),
])
def test_every_command_refuses_empty_option_values(capsys, argv, option):
    rc = main(argv)
    assert f"{option} must not be empty" in _one_error(capsys, rc)


def test_run_refuses_to_replace_its_input(tmp_path, data, capsys):
    video = _video(tmp_path / "a.mp4", data)
    before = _sha(video)
    rc = main(["run", "--source", str(video), "--out", str(video), "--overwrite"])
    assert "is the input" in _one_error(capsys, rc)
    rc = main(["run", "--source", str(tmp_path / "." / "a.mp4"), "--transcript", str(video), "--overwrite"])
    assert "is the input" in _one_error(capsys, rc)
    assert _sha(video) == before


def test_run_on_an_unreadable_image_without_out_is_an_error(tmp_path, capsys, checkpoint):
    bad = tmp_path / "unreadable.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    rc = main(["run", "--source", str(bad), "--model", str(checkpoint), "--no-progress"])
    line = _one_error(capsys, rc)
    assert "gave no frames" in line and "unreadable.jpg" in line
    transcript = tmp_path / "t.json"
    transcript.write_text("the user's")
    rc = main(["run", "--source", str(bad), "--model", str(checkpoint), "--no-progress", "--transcript",
               str(transcript), "--overwrite"])
    assert "gave no frames" in _one_error(capsys, rc)
    assert transcript.read_text() == "the user's"


def test_run_names_the_files_of_a_folder_it_did_not_read(tmp_path, data, capsys, checkpoint):
    """A broken photo is warned about; a note and a GIF are named as passed over (not read silently)."""
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "000.jpg"), letterbox(mon95(data, 7, "B", 0)))
    (folder / "001.jpg").write_bytes(b"\xff\xd8 truncated")
    (folder / "notes.txt").write_text("B")
    (folder / "clip.gif").write_bytes(b"GIF89a")
    transcript = tmp_path / "t.json"
    assert main(["run", "--source", str(folder), "--model", str(checkpoint), "--no-progress",
                 "--transcript", str(transcript)]) == 0
    err = capsys.readouterr().err
    assert f"warning: skipped unreadable image {folder / '001.jpg'}" in err
    assert f"note: passed over 2 files in {folder} that are not of the photo types read from a folder " \
           "(clip.gif, notes.txt)" in err
    source = json.loads(transcript.read_text())["source"]
    assert source["skipped"] == [str(folder / "001.jpg")] and source["passed_over"] == ["clip.gif", "notes.txt"]


def test_run_after_ctrl_c_exits_130_with_a_whole_transcript(tmp_path, data, checkpoint):
    frames = tmp_path / "frames"
    frames.mkdir()
    src = photo(data, "a", 0)
    for i in range(3000):
        (frames / f"{i:05d}.jpeg").symlink_to(src)
    transcript = tmp_path / "t.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "fingerspell", "run", "--source", str(frames), "--model",
                             str(checkpoint), "--transcript", str(transcript)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a shell
    seen = ""
    while not re.search(r"\b[1-9]\d*/3000", seen) and proc.poll() is None:  # the progress bar: frames done
        seen += proc.stderr.read(1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, seen + err
    assert "interrupted (Ctrl-C)" in err and "Traceback" not in err
    doc = json.loads(transcript.read_text())
    assert doc["interrupted"] and 0 < doc["frames_processed"] < 3000
    error_lines(subprocess.CompletedProcess([], 130, out, err))


# --- training ------------------------------------------------------------------------------------------

def test_training_stops_on_a_non_finite_loss_and_saves_nothing(tmp_path, capsys):
    data = tiny_dataset(60)
    data.vectors[:] = 3e38  # finite, but the first forward pass overflows
    data.vectors[::2] *= -1
    ds = save_dataset(data, tmp_path / "extreme.npz")
    run_dir = tmp_path / "run"
    rc = main(["train", "--data", str(ds), "--model", "landmark_mlp", "--out", str(run_dir), "--epochs", "2",
               "--no-augment", "--no-progress"])
    assert "the loss became nan" in _one_error(capsys, rc)
    assert not run_dir.exists() or not any(run_dir.glob("*.safetensors"))


def test_checkpoint_keeper_never_saves_non_finite_weights(tmp_path):
    import torch

    from fingerspell.labels import CLASSES, NUM_CLASSES
    from fingerspell.models import build_model, make_card
    from fingerspell.training.callbacks import CheckpointKeeper

    model = build_model("landmark_mlp", NUM_CLASSES, hidden=(8,))
    with torch.no_grad():
        next(model.parameters())[0] = float("nan")
    keeper = CheckpointKeeper(tmp_path)
    with pytest.raises(FingerspellError, match="1 weight tensors hold NaN or inf"):
        keeper.save_best(model, make_card(model, CLASSES))
    assert list(tmp_path.iterdir()) == []


def test_run_that_reads_no_letter_says_why(tmp_path, data, capsys, checkpoint):
    """A run that writes nothing says whether no hand was seen or no hand was held, not just an empty line."""
    blank = tmp_path / "blank.mp4"
    w = cv2.VideoWriter(str(blank), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (320, 240))
    for _ in range(12):
        w.write(np.full((240, 320, 3), 120, np.uint8))
    w.release()
    assert main(["run", "--source", str(blank), "--model", str(checkpoint), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: no letter read: no hand found in any of the 12 frames of" in err and "blank.mp4" in err
    hand = letterbox(mon95(data, 3, "A", 0))  # a hand seen for 0.2 s: too short to be a hold
    glimpse = tmp_path / "glimpse.mp4"
    w = cv2.VideoWriter(str(glimpse), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (hand.shape[1], hand.shape[0]))
    for _ in range(2):
        w.write(hand)
    w.release()
    assert main(["run", "--source", str(glimpse), "--model", str(checkpoint), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == ""
    assert "a hand was found in 2 of the 2 frames" in captured.err and "never held still" in captured.err
    folder = tmp_path / "photos"  # a folder of separate photos is pointed to predict
    folder.mkdir()
    cv2.imwrite(str(folder / "a.jpg"), hand)
    assert main(["run", "--source", str(folder), "--model", str(checkpoint), "--no-progress"]) == 0
    assert "for separate photos use 'fingerspell predict DIR'" in capsys.readouterr().err
