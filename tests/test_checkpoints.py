"""Checkpoints: exact round trips, fp16 weights into fp32 models, and clear errors for bad files."""

from __future__ import annotations

import json

import pytest
import torch

from fingerspell.errors import FingerspellError
from fingerspell.hands.landmarks import FEATURE_DIM
from fingerspell.labels import CLASSES
from fingerspell.models import build_model, load_checkpoint, read_card, save_checkpoint
from fingerspell.models.checkpoint import checkpoint_paths, make_card


def _trained_like(name: str, size):
    """A model whose BatchNorm buffers are not at their initial values (so buffers must round-trip)."""
    torch.manual_seed(3)
    model = build_model(name, len(CLASSES), size)
    model.train()
    x = torch.randn(8, FEATURE_DIM) if size is None else torch.rand(8, 3, size, size)
    with torch.no_grad():
        model(x)
    return model.eval(), x[:4]


@pytest.mark.parametrize("name,size", [("cnn", 32), ("landmark_mlp", None), ("mobilenetv2", 32)])
def test_round_trip_identical_outputs(tmp_path, name, size):
    model, x = _trained_like(name, size)
    card = make_card(model, CLASSES, training={"note": "test"}, metrics={"val_acc": 0.5})
    w, c = save_checkpoint(model, card, tmp_path / "best")
    assert w.name == "best.safetensors" and c.name == "best.json"
    loaded, card2 = load_checkpoint(tmp_path / "best.safetensors")
    assert not loaded.training
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert card2["architecture"] == name and card2["classes"] == list(CLASSES)
    assert card2["input_kind"] == ("vector" if size is None else "mask")
    assert card2["input_size"] == (FEATURE_DIM if size is None else size)
    assert card2["metrics"] == {"val_acc": 0.5} and card2["training"] == {"note": "test"}
    assert card2["weights_dtype"] == "float32"
    assert card2["normalization"]["function"].startswith("fingerspell.features.")
    assert not list(tmp_path.glob("*.part")), "temporary files left behind"


def test_fp16_weights_load_into_fp32(tmp_path):
    model, x = _trained_like("cnn", 32)
    save_checkpoint(model, make_card(model, CLASSES), tmp_path / "half", half=True)
    save_checkpoint(model, make_card(model, CLASSES), tmp_path / "full")
    half_size = (tmp_path / "half.safetensors").stat().st_size
    assert half_size < 0.6 * (tmp_path / "full.safetensors").stat().st_size
    loaded, card = load_checkpoint(tmp_path / "half")
    assert card["weights_dtype"] == "float16"
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    with torch.no_grad():
        ref, got = torch.softmax(model(x), 1), torch.softmax(loaded(x), 1)
    assert torch.allclose(ref, got, atol=2e-3), (ref - got).abs().max()
    assert torch.equal(ref.argmax(1), got.argmax(1))


def test_custom_build_kwargs_survive(tmp_path):
    model = build_model("landmark_mlp", 5, hidden=(64, 32), dropout=0.1)
    save_checkpoint(model, make_card(model, CLASSES[:5]), tmp_path / "m")
    loaded, card = load_checkpoint(tmp_path / "m")
    assert card["build_kwargs"] == {"hidden": [64, 32], "dropout": 0.1}
    assert loaded.net[1].out_features == 64


@pytest.fixture()
def saved(tmp_path):
    model, _ = _trained_like("cnn", 32)
    save_checkpoint(model, make_card(model, CLASSES), tmp_path / "best")
    return tmp_path / "best"


def _card(path):
    return json.loads(checkpoint_paths(path)[1].read_text())


def _write_card(path, card):
    checkpoint_paths(path)[1].write_text(json.dumps(card))


def test_garbage_weights(saved):
    w, _ = checkpoint_paths(saved)
    w.write_bytes(b"this is not a safetensors file at all" * 50)
    with pytest.raises(FingerspellError, match="checksum differs"):
        load_checkpoint(saved)
    card = _card(saved)
    del card["weights_sha256"]
    _write_card(saved, card)
    with pytest.raises(FingerspellError, match="is not a readable safetensors file"):
        load_checkpoint(saved)


def test_truncated_weights(saved):
    w, _ = checkpoint_paths(saved)
    blob = w.read_bytes()
    w.write_bytes(blob[: len(blob) // 2])
    card = _card(saved)
    del card["weights_sha256"]  # get past the checksum to the reader itself
    _write_card(saved, card)
    with pytest.raises(FingerspellError, match="truncated or corrupt"):
        load_checkpoint(saved)


def test_wrong_architecture_in_card(saved):
    card = _card(saved)
    card["architecture"] = "resnet18"
    _write_card(saved, card)
    with pytest.raises(FingerspellError, match="do not fit the card's resnet18"):
        load_checkpoint(saved)
    card["architecture"] = "vgg16"
    _write_card(saved, card)
    with pytest.raises(FingerspellError, match="names architecture 'vgg16'"):
        load_checkpoint(saved)


def test_wrong_classes_or_size_in_card(saved):
    card = _card(saved)
    card["classes"] = card["classes"][:5]
    _write_card(saved, card)
    with pytest.raises(FingerspellError, match="with 5 classes"):
        load_checkpoint(saved)
    card = _card(saved)
    card["classes"] = list(CLASSES)
    card["build_kwargs"] = {"channels": [8, 16, 32, 64]}
    _write_card(saved, card)
    with pytest.raises(FingerspellError, match="come from different models"):
        load_checkpoint(saved)


def test_bad_cards(saved):
    _, c = checkpoint_paths(saved)
    c.write_text("{not json")
    with pytest.raises(FingerspellError, match="is not valid JSON"):
        load_checkpoint(saved)
    c.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FingerspellError, match="is not valid JSON"):
        read_card(saved)
    c.write_text(json.dumps({"architecture": "cnn"}))
    with pytest.raises(FingerspellError, match="lacks a valid 'format_version'"):
        load_checkpoint(saved)
    c.write_text("[1, 2]")
    with pytest.raises(FingerspellError, match="not a JSON object"):
        load_checkpoint(saved)
    c.unlink()
    with pytest.raises(FingerspellError, match="model card .* does not exist"):
        load_checkpoint(saved)


def test_missing_weights(saved):
    checkpoint_paths(saved)[0].unlink()
    with pytest.raises(FingerspellError, match="do not exist beside card"):
        load_checkpoint(saved)


def test_card_must_match_model(tmp_path):
    model = build_model("landmark_mlp", 5)
    with pytest.raises(FingerspellError, match="5 outputs"):
        save_checkpoint(model, {"classes": list(CLASSES)}, tmp_path / "x")
    with pytest.raises(FingerspellError, match="card says architecture='cnn'"):
        save_checkpoint(model, {"classes": list(CLASSES[:5]), "architecture": "cnn"}, tmp_path / "x")


def test_one_resolver_names_models_for_every_command(tmp_path):
    """A shipped name, a path with or without suffix, or an .onnx file (which picks the ONNX backend)."""
    from fingerspell.models.checkpoint import WEIGHTS_DIR, init_state, resolve_model

    ref = resolve_model("landmark_mlp")
    assert ref.path == WEIGHTS_DIR / "landmark_mlp" and ref.backend == "torch"
    for spec in (WEIGHTS_DIR / "landmark_mlp.safetensors", WEIGHTS_DIR / "landmark_mlp.json", ref.path):
        assert resolve_model(spec) == ref
    model, card = ref.load()
    assert card["architecture"] == "landmark_mlp"
    state = init_state("landmark_mlp")  # train --init-from takes a shipped name too
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(b"not really onnx")
    assert resolve_model(onnx_file).backend == "onnx"
    with pytest.raises(FingerspellError, match="is an ONNX file"):
        resolve_model(onnx_file).load()
