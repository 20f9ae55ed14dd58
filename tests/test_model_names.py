"""One way to name a model in every command: a shipped name, a checkpoint without its suffix, or
an exported .onnx file (onnxruntime chosen from the suffix, no --backend needed). Commands that
need PyTorch weights (export, train --init-from, calibrate)
refuse an .onnx file in one line that says what to give instead."""

from __future__ import annotations

import json
import shutil

import pytest
from _tiny_data import tiny_files

from fingerspell.cli import build_parser, main
from fingerspell.models.checkpoint import WEIGHTS_DIR

FORMS = ("shipped", "bare", "onnx")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The shipped landmark_mlp under its three names."""
    root = tmp_path_factory.mktemp("models")
    for suffix in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"landmark_mlp{suffix}", root / f"mine{suffix}")
    assert main(["export", "--checkpoint", "landmark_mlp", "--out", str(root / "mine.onnx")]) == 0
    return {"shipped": "landmark_mlp", "bare": str(root / "mine"), "onnx": str(root / "mine.onnx")}


@pytest.fixture(scope="module")
def frames(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    for i in range(8):
        shutil.copy(data / "mon95" / "user_7" / "L0.jpg", folder / f"{i:03d}.jpg")
    return folder


@pytest.fixture(scope="module")
def tiny(data, tmp_path_factory):
    return tiny_files(data, tmp_path_factory.mktemp("tiny"))


@pytest.mark.parametrize("form", FORMS)
def test_predict(models, data, form, capsys):
    assert main(["predict", str(data / "mon95" / "user_7" / "L0.jpg"), "--json", "--model", models[form]]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["letter"] == "L"


@pytest.mark.parametrize("form", FORMS)
def test_run(models, frames, form, tmp_path, capsys):
    transcript = tmp_path / "t.json"
    assert main(["run", "--source", str(frames), "--transcript", str(transcript), "--no-progress",
                 "--model", models[form]]) == 0
    doc = json.loads(transcript.read_text())
    assert doc["backend"] == ("onnx" if form == "onnx" else "torch")
    assert doc["frames"][-1]["hands"][0]["label"] == "L"


@pytest.mark.parametrize("form", FORMS)
def test_bench(models, frames, form, capsys):
    assert main(["bench", "--source", str(frames), "--frames", "3", "--warmup", "1", "--json",
                 "--model", models[form]]) == 0
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("command", ["live", "serve"])
def test_live_and_serve_build_their_recognizer(models, form, command):
    """The window and the web app build their recognizer from the same options (no window or server here)."""
    from fingerspell.apps import recognizer_from_args

    args = build_parser().parse_args([command, "--model", models[form]])
    with recognizer_from_args(args) as recognizer:
        assert recognizer.classifier.backend == ("onnx" if form == "onnx" else "torch")


accuracy = {}


@pytest.mark.parametrize("form", FORMS)
def test_evaluate(models, tiny, form, capsys):
    rc = main(["evaluate", "--checkpoint", models[form], "--data", str(tiny[1]), "--no-plot"])
    out = capsys.readouterr().out
    assert rc == 0 and "accuracy" in out
    accuracy[form] = out.split("accuracy ", 1)[1].split()[0]
    if len(accuracy) == len(FORMS):
        assert len(set(accuracy.values())) == 1, accuracy  # onnxruntime scores as PyTorch does


@pytest.mark.parametrize("form", FORMS)
def test_train_init_from(models, tiny, form, tmp_path, capsys):
    rc = main(["train", "--data", str(tiny[0]), "--model", "landmark_mlp", "--out", str(tmp_path / "run"),
               "--epochs", "1", "--no-progress", "--no-plot", "--threads", "1", "--init-from", models[form]])
    err = capsys.readouterr().err
    if form == "onnx":
        assert rc == 2 and "is an ONNX file" in err.strip().splitlines()[-1] and ".safetensors" in err
    else:
        assert rc == 0, err


@pytest.mark.parametrize("form", FORMS)
def test_export(models, form, tmp_path, capsys):
    rc = main(["export", "--checkpoint", models[form], "--out", str(tmp_path / "again.onnx")])
    err = capsys.readouterr().err
    if form == "onnx":
        assert rc == 2 and len(err.strip().splitlines()) == 1 and ".safetensors" in err
    else:
        assert rc == 0 and (tmp_path / "again.onnx").is_file()


@pytest.mark.parametrize("form", FORMS)
def test_calibrate(models, data, form, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FINGERSPELL_PROFILES", str(tmp_path / "profiles"))
    photos = tmp_path / "me"
    for letter in "RU":
        (photos / letter).mkdir(parents=True)
        for k in (0, 5):
            shutil.copy(data / "mon95" / "user_4" / f"{letter}{k}.jpg", photos / letter / f"{k}.jpg")
    rc = main(["calibrate", "--source", str(photos), "--out", "me", "--model", models[form]])
    err = capsys.readouterr().err
    if form == "onnx":  # a profile is fitted on the PyTorch model; --backend onnx runs it later
        assert rc == 2 and len(err.strip().splitlines()) == 1 and ".safetensors" in err
    else:
        assert rc == 0, err
