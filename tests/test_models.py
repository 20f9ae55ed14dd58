"""The architectures: forward/backward at small sizes, attention really running, weight loading."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import torchvision

from fingerspell.errors import FingerspellError
from fingerspell.hands.landmarks import FEATURE_DIM
from fingerspell.models import (
    MODEL_NAMES,
    ChannelAttention,
    CustomMobileNetV2,
    build_model,
    count_parameters,
    import_seed_checkpoint,
    input_kind,
)
from fingerspell.models.mobilenet import ATTENTION_AFTER

SMALL = {"cnn": 32, "mobilenetv2": 32, "resnet18": 32, "landmark_mlp": None}


def _input(name: str, n: int = 3, size=None) -> torch.Tensor:
    if input_kind(name) == "vector":
        return torch.randn(n, FEATURE_DIM)
    s = size or SMALL[name]
    return torch.rand(n, 3, s, s)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_forward_backward_small(name):
    torch.manual_seed(0)
    model = build_model(name, 29, SMALL[name])
    model.train()
    logits = model(_input(name))
    assert logits.shape == (3, 29) and torch.isfinite(logits).all()
    logits.logsumexp(1).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"parameters without gradient: {missing[:3]}"
    model.eval()
    with torch.no_grad():
        assert model(_input(name, n=1)).shape == (1, 29)


@pytest.mark.parametrize("size", [16, 40, 64, 96])
def test_cnn_runs_at_any_input_size(size):
    model = build_model("cnn", 5, size).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 3, size, size)).shape == (2, 5)


@pytest.mark.parametrize("name", ["cnn", "mobilenetv2", "resnet18"])
def test_every_attention_module_runs(name):
    model = build_model(name, 7, 32).eval()
    seen = {}

    def hook(mod, inputs, output):
        seen[id(mod)] = inputs[0].shape[1]
        assert output.shape == inputs[0].shape

    modules = [m for m in model.modules() if isinstance(m, ChannelAttention)]
    assert len(modules) == 4
    for m in modules:
        m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.rand(2, 3, 32, 32))
    assert set(seen) == {id(m) for m in modules}, "an attention module never ran"
    for m in modules:
        assert seen[id(m)] == m.channels


def test_mobilenet_attention_sits_on_real_stage_widths():
    model = CustomMobileNetV2(3, input_size=32)
    for idx, ch in ATTENTION_AFTER.items():
        assert model.features[idx].out_channels == ch
    assert sorted(m.channels for m in model.attention.values()) == [24, 32, 96, 320]
    head = [type(m).__name__ for m in model.classifier]
    assert head == ["Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert model.classifier[0].p == 0.2 and model.classifier[3].p == 0.5
    assert model.classifier[1].in_features == 1280 and model.classifier[1].out_features == 512


def test_channel_attention_gates_channels():
    att = ChannelAttention(16, ratio=8)
    assert att.reduce.out_channels == 2
    x = torch.rand(2, 16, 5, 5)
    y = att(x)
    ratio = y / x
    # one gate per (sample, channel), in (0, 1)
    assert torch.allclose(ratio, ratio[..., :1, :1].expand_as(ratio), atol=1e-5)
    assert (ratio > 0).all() and (ratio < 1).all()


def test_landmark_mlp_is_small():
    model = build_model("landmark_mlp", 29)
    assert count_parameters(model) < 100_000
    assert model.fingerspell_build["input_size"] == FEATURE_DIM


def test_registry_errors():
    with pytest.raises(FingerspellError, match="unknown model 'vgg'"):
        build_model("vgg", 29)
    with pytest.raises(FingerspellError, match="landmark vectors of length 100"):
        build_model("landmark_mlp", 29, 64)
    with pytest.raises(FingerspellError, match="cannot build model cnn"):
        build_model("cnn", 29, 64, no_such_argument=1)
    with pytest.raises(FingerspellError, match="has no ImageNet weights"):
        build_model("cnn", 29, 32, pretrained=True)
    assert [input_kind(n) for n in MODEL_NAMES] == ["mask", "mask", "mask", "vector"]


def test_pretrained_path_loads_backbone_from_safetensors_and_pth(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(1)
    ref = torchvision.models.mobilenet_v2(weights=None).state_dict()
    save_file({k: v.contiguous() for k, v in ref.items()}, str(tmp_path / "mnv2.safetensors"))
    torch.save(ref, tmp_path / "mnv2.pth")
    for f in ("mnv2.safetensors", "mnv2.pth"):
        model = build_model("mobilenetv2", 5, 32, pretrained_path=tmp_path / f)
        got = model.state_dict()
        assert torch.equal(got["features.0.0.weight"], ref["features.0.0.weight"])
        assert torch.equal(got["features.18.1.running_var"], ref["features.18.1.running_var"])
        assert got["classifier.4.weight"].shape == (5, 512)  # the head stays new
    # a ResNet file is not a MobileNet backbone
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), tmp_path / "r18.pth")
    with pytest.raises(FingerspellError, match="does not hold torchvision mobilenetv2 backbone weights"):
        build_model("mobilenetv2", 5, 32, pretrained_path=tmp_path / "r18.pth")
    model = build_model("resnet18", 5, 32, pretrained_path=tmp_path / "r18.pth")
    assert model.layer4[1].conv2.weight.shape == (512, 512, 3, 3)


def test_pickled_objects_are_refused(tmp_path):
    torch.save(torch.nn.Linear(3, 2), tmp_path / "whole_model.pth")  # a pickled module, not a state dict
    with pytest.raises(FingerspellError, match="not a plain tensor state dict"):
        build_model("resnet18", 5, 32, pretrained_path=tmp_path / "whole_model.pth")
    (tmp_path / "garbage.pth").write_bytes(b"\x00not a torch file" * 10)
    with pytest.raises(FingerspellError, match="not a plain tensor state dict"):
        import_seed_checkpoint(tmp_path / "garbage.pth", "cnn")
    with pytest.raises(FingerspellError, match="does not exist"):
        import_seed_checkpoint(tmp_path / "nope.pth", "cnn")


def test_import_seed_checkpoint_matches_wrapped_names(tmp_path):
    # the seed wrapped torchvision's network as self.mobilenet and saved model.state_dict()
    src = torchvision.models.mobilenet_v2(weights=None).state_dict()
    seed_state = {f"mobilenet.{k}": v for k, v in src.items()}
    torch.save(seed_state, tmp_path / "seed.pth")
    model, report = import_seed_checkpoint(tmp_path / "seed.pth", "mobilenetv2", 29, 32)
    n_backbone = len([k for k in model.state_dict() if k.startswith("features.")])
    assert report["loaded"] == n_backbone and report["total"] > n_backbone
    assert torch.equal(model.state_dict()["features.5.conv.0.0.weight"], src["features.5.conv.0.0.weight"])
    with pytest.raises(FingerspellError, match="no tensor in the given weights matches"):
        import_seed_checkpoint(tmp_path / "seed.pth", "landmark_mlp")


def test_pretrained_offline_names_pretrained_path(tmp_path, data):
    """No internet and an empty hub cache: a one-line error pointing at --pretrained-path."""
    env = dict(os.environ, TORCH_HOME=str(tmp_path / "hub"), HTTPS_PROXY="http://127.0.0.1:9",
               https_proxy="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9",
               NO_PROXY="", no_proxy="")
    code = ("from fingerspell.models import build_model\n"
            "from fingerspell.errors import FingerspellError\n"
            "try:\n    build_model('mobilenetv2', 5, 32, pretrained=True)\n"
            "except FingerspellError as e:\n    print('ERR', e)\n")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    err = [line for line in res.stdout.splitlines() if line.startswith("ERR ")]
    assert err and err[0].startswith("ERR cannot get ImageNet weights for mobilenetv2"), res.stdout
    assert "--pretrained-path" in err[0] and "mobilenet_v2-7ebf99e0.pth" in err[0]


def test_cli_knows_the_same_model_names():
    from fingerspell.commands.train import MODEL_NAMES as CLI_NAMES

    assert CLI_NAMES == MODEL_NAMES
