"""ONNX export: same probabilities as PyTorch, dynamic batch, card beside it, model look-up."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from _tiny_model import letterbox, mon95, tiny_cnn, tiny_mlp

from fingerspell import features
from fingerspell.cli import main
from fingerspell.errors import FingerspellError
from fingerspell.hands.detector import HandDetector
from fingerspell.models.checkpoint import default_model_path, resolve_model, resolve_model_path
from fingerspell.runtime.classifier import OnnxClassifier, TorchClassifier, load_classifier
from fingerspell.runtime.onnx import export_onnx


@pytest.fixture(scope="module")
def real_hands(data):
    with HandDetector(mode="image") as det:
        hands = [det.detect(letterbox(mon95(data, 5, letter, 0)))[0] for letter in "ABLOVY"]
    return hands


def _batches(card: dict, hands) -> list:
    real = features.input_for(card).batch_for_hands(hands)  # mask models: each mask and its mirror
    return [real, real[:1]]  # batch 12 (or 6) and batch 1: the batch axis is dynamic


@pytest.mark.parametrize("which", ["cnn", "mlp", "shipped"])
def test_onnx_matches_torch(which, data, tmp_path, real_hands):
    """``shipped``: the default landmark_mlp with its R/U/V expert (the combine goes into the graph)."""
    from fingerspell.models.checkpoint import resolve_model_path

    makers = {"cnn": tiny_cnn, "mlp": lambda: tiny_mlp(data), "shipped": lambda: resolve_model_path("landmark_mlp")}
    ckpt = makers[which]()
    out = export_onnx(ckpt, tmp_path / f"{which}.onnx")
    assert out == tmp_path / f"{which}.onnx"
    model = onnx.load(str(out))
    assert max(op.version for op in model.opset_import if op.domain in ("", "ai.onnx")) >= 13
    card = json.loads((tmp_path / f"{which}.json").read_text())
    assert card == json.loads(Path(str(ckpt) + ".json").read_text())
    torch_clf = TorchClassifier.from_checkpoint(ckpt)
    onnx_clf = OnnxClassifier(out, card)
    for batch in _batches(card, real_hands):
        p_torch, p_onnx = torch_clf.predict_proba(batch), onnx_clf.predict_proba(batch)
        assert p_torch.shape == p_onnx.shape == (len(batch), 29)
        assert np.allclose(p_torch.sum(axis=1), 1.0, atol=1e-5)
        assert float(np.max(np.abs(p_torch - p_onnx))) <= 1e-4
    if which != "cnn":  # a trained model reads the letters of an unseen user, in both engines
        names = [card["classes"][i] for i in onnx_clf.predict_proba(_batches(card, real_hands)[0]).argmax(1)]
        assert sum(n == t for n, t in zip(names, "ABLOVY")) >= 5
    with pytest.raises(FingerspellError, match="exists: pass --overwrite"):
        export_onnx(ckpt, out)
    with pytest.raises(FingerspellError, match="reads mask batches|reads vector batches"):
        onnx_clf.predict_proba(np.zeros((2, 7), np.float32))


def test_export_command_and_onnx_backend_cache(data, tmp_path, monkeypatch, capsys):
    ckpt = tiny_mlp(data)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "exported" / "model.onnx"
    assert main(["export", "--checkpoint", str(ckpt) + ".safetensors", "--format", "onnx", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "max abs probability difference" in text and out.is_file() and out.with_suffix(".json").is_file()
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    # A .onnx path runs directly; a checkpoint with --backend onnx is exported once into the cache.
    clf, card = load_classifier(out, backend="onnx")
    assert isinstance(clf, OnnxClassifier) and card["architecture"] == "landmark_mlp"
    clf1, _ = load_classifier(str(ckpt) + ".json", backend="onnx")
    cached = list((tmp_path / "cache" / "fingerspell" / "onnx").glob("*.onnx"))
    assert len(cached) == 1 and clf1.path == cached[0]
    stamp = os.stat(cached[0]).st_mtime_ns
    clf2, _ = load_classifier(ckpt, backend="onnx")
    assert clf2.path == cached[0] and os.stat(cached[0]).st_mtime_ns == stamp
    with pytest.raises(FingerspellError, match="--backend onnx"):
        load_classifier(out, backend="torch")


def test_model_lookup_by_path_name_and_default(tmp_path, data):
    import shutil

    ckpt = tiny_mlp(data)
    for spec in (str(ckpt), str(ckpt) + ".safetensors", str(ckpt) + ".json"):
        assert resolve_model_path(spec) == ckpt
    weights = tmp_path / "weights"
    with pytest.raises(FingerspellError, match="none shipped .*--model PATH"):
        default_model_path(weights)
    weights.mkdir()
    for stem in ("b_model", "a_model"):
        for suffix in (".safetensors", ".json"):
            shutil.copy(str(ckpt) + suffix, weights / (stem + suffix))
    assert default_model_path(weights) == weights / "a_model"  # no default.txt: the first shipped
    (weights / "default.txt").write_text("b_model\n")
    assert default_model_path(weights) == weights / "b_model"
    assert resolve_model_path("a_model", weights_dir=weights) == weights / "a_model"
    assert resolve_model_path(None, weights_dir=weights) == weights / "b_model"
    (weights / "default.txt").write_text("missing_model")
    with pytest.raises(FingerspellError, match="default.txt"):
        default_model_path(weights)
    with pytest.raises(FingerspellError, match="model no_such_model not found"):
        resolve_model_path("no_such_model", weights_dir=weights)
    ref = resolve_model("a_model", weights_dir=weights)  # one resolver for every command
    assert ref.backend == "torch" and ref.card()["architecture"] == "landmark_mlp"
    assert resolve_model("landmark_mlp").path.name == "landmark_mlp"  # a shipped name
