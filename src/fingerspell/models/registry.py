"""Every model by name, ImageNet/seed weight loading, and the checkpoint format.

A checkpoint is two files side by side:

* ``<path>.safetensors``: the weights (fp32, or fp16 when saved with ``half=True``; fp16 weights load
  back into fp32 models);
* ``<path>.json``: the model card, enough to rebuild the model and feed it correctly:
  ``format_version``, ``architecture`` (one of :data:`MODEL_NAMES`), ``classes``, ``input_kind``
  (``"mask"`` or ``"vector"``), ``input_size`` (mask side in pixels, or FEATURE_DIM), ``normalization``,
  ``build_kwargs``, ``training``, ``metrics``, ``weights_dtype``, ``weights_sha256``, ``num_parameters``.

Nothing here unpickles: weights load through safetensors, and foreign ``.pth`` files only through
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from fingerspell import fileio
from fingerspell.errors import FingerspellError
from fingerspell.hands.landmarks import FEATURE_DIM
from fingerspell.models.cnn import CustomCNN
from fingerspell.models.landmark_mlp import LandmarkMLP
from fingerspell.models.mobilenet import CustomMobileNetV2
from fingerspell.models.resnet import CustomResNet18

CARD_VERSION = 1
MODEL_NAMES = ("cnn", "mobilenetv2", "resnet18", "landmark_mlp")
PathLike = Union[str, Path]


def _mobilenet_weights():
    from torchvision.models import MobileNet_V2_Weights

    return MobileNet_V2_Weights.DEFAULT


def _resnet_weights():
    from torchvision.models import ResNet18_Weights

    return ResNet18_Weights.DEFAULT


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one architecture."""

    name: str
    factory: Callable[..., nn.Module]
    input_kind: str
    default_input_size: int
    imagenet_weights: Optional[Callable[[], Any]] = None
    description: str = ""


SPECS: Dict[str, ModelSpec] = {
    "cnn": ModelSpec("cnn", CustomCNN, "mask", 64, None, "4-block attention CNN, from scratch"),
    "mobilenetv2": ModelSpec("mobilenetv2", CustomMobileNetV2, "mask", 96, _mobilenet_weights,
                             "MobileNetV2 + channel attention"),
    "resnet18": ModelSpec("resnet18", CustomResNet18, "mask", 96, _resnet_weights,
                          "ResNet18 + channel attention"),
    "landmark_mlp": ModelSpec("landmark_mlp", LandmarkMLP, "vector", FEATURE_DIM, None,
                              "MLP over normalised landmark vectors"),
}


def model_spec(name: str) -> ModelSpec:
    """The spec of a model name, or a clear error listing the names."""
    if name not in SPECS:
        raise FingerspellError(f"unknown model {name!r}: use one of {', '.join(MODEL_NAMES)}")
    return SPECS[name]


def input_kind(name: str) -> str:
    """"mask" or "vector": which dataset field (and features function) the model reads."""
    return model_spec(name).input_kind


def default_input_size(name: str) -> int:
    return model_spec(name).default_input_size


def normalization_for(kind: str) -> dict:
    """How raw dataset rows become model input; recorded in every model card."""
    if kind == "mask":
        return {"function": "fingerspell.features.masks_to_model_array", "dtype": "uint8",
                "scale": 1.0 / 255.0, "channel_order": "BGR", "layout": "NCHW"}
    return {"function": "fingerspell.features.vectors_to_model_array", "feature_dim": FEATURE_DIM,
            "layout": "NF"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def build_model(
    name: str,
    num_classes: int,
    input_size: Optional[int] = None,
    *,
    pretrained: bool = False,
    pretrained_path: Optional[PathLike] = None,
    **kwargs: Any,
) -> nn.Module:
    """Build a model by name. ``input_size`` defaults to the model's usual size (masks) or FEATURE_DIM.

    ``pretrained`` loads torchvision's ImageNet weights into the backbone (needs internet or a filled
    torch hub cache); ``pretrained_path`` loads them from a local state-dict file instead.
    The build arguments are kept on the model (``model.fingerspell_build``) for its checkpoint card.
    """
    spec = model_spec(name)
    if num_classes < 2:
        raise FingerspellError(f"a classifier needs at least 2 classes, got {num_classes}")
    size = spec.default_input_size if input_size is None else int(input_size)
    if spec.input_kind == "vector" and size != FEATURE_DIM:
        raise FingerspellError(
            f"model {name} reads landmark vectors of length {FEATURE_DIM}, not {size}: drop --input-size"
        )
    try:
        model = spec.factory(num_classes, input_size=size, **kwargs)
    except (TypeError, ValueError) as exc:
        raise FingerspellError(f"cannot build model {name} with input size {size} and {kwargs}: {exc}") from None
    model.fingerspell_build = {
        "architecture": name, "num_classes": int(num_classes), "input_size": size,
        "input_kind": spec.input_kind, "kwargs": _jsonable(kwargs),
    }
    if pretrained and pretrained_path:
        raise FingerspellError("give either --pretrained or --pretrained-path, not both")
    if pretrained:
        load_imagenet_weights(model)
    elif pretrained_path:
        load_backbone_file(model, pretrained_path)
    return model


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model inside DistributedDataParallel / DataParallel."""
    return getattr(model, "module", model)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in unwrap(model).parameters() if p.requires_grad or not trainable_only)


# --- foreign weights ------------------------------------------------------------------------------

def load_imagenet_weights(model: nn.Module) -> int:
    """Load torchvision's ImageNet weights (``*_Weights.DEFAULT``) into the model's backbone."""
    name = model.fingerspell_build["architecture"]
    spec = model_spec(name)
    if spec.imagenet_weights is None:
        raise FingerspellError(f"model {name} has no ImageNet weights: drop --pretrained (it trains from scratch)")
    weights = spec.imagenet_weights()
    try:
        state = weights.get_state_dict(progress=False, check_hash=True)
    except Exception as exc:  # URLError, hash mismatch, corrupt cache file: all mean "cannot get them"
        hub = Path(torch.hub.get_dir()) / "checkpoints"
        raise FingerspellError(
            f"cannot get ImageNet weights for {name} ({type(exc).__name__}: {exc}); offline, download "
            f"{weights.url} elsewhere and pass it with --pretrained-path FILE (or put it in {hub})"
        ) from None
    return load_backbone_state(model, state, source=weights.url)


def read_state_dict(path: PathLike) -> Dict[str, torch.Tensor]:
    """Tensors from a safetensors file or a ``torch.save``d state dict (weights_only: no pickles run).

    Wrappers such as ``{"state_dict": ...}`` and DDP's ``module.`` prefix are removed.
    """
    p = Path(path)
    if not p.is_file():
        raise FingerspellError(f"weights file {p} does not exist: give the path of a .safetensors or .pth file")
    if p.suffix == ".safetensors":
        state = _load_safetensors(p)
    else:
        try:
            state = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:  # UnpicklingError for pickled objects, RuntimeError for garbage
            raise FingerspellError(
                f"{p} is not a plain tensor state dict ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                "only weights-only .pth files or .safetensors load: re-save it with "
                "torch.save(model.state_dict(), path)"
            ) from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise FingerspellError(f"{p} does not hold a state dict of tensors: re-save it with model.state_dict()")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}


def load_backbone_state(model: nn.Module, state: Dict[str, torch.Tensor], source: str = "weights") -> int:
    """Copy a torchvision state dict's backbone tensors into the model; the head stays new.

    Every backbone tensor must be present with the right shape, so a file for another architecture
    gives a clear error instead of a half-loaded network. Returns the number of tensors loaded.
    """
    m = unwrap(model)
    prefixes = getattr(m, "backbone_prefixes", ())
    name = m.fingerspell_build["architecture"]
    if not prefixes:
        raise FingerspellError(f"model {name} has no pretrained backbone: drop --pretrained/--pretrained-path")
    own = {k: v for k, v in m.state_dict().items() if k.startswith(tuple(prefixes))}
    missing = [k for k in own if k not in state]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or wrong:
        example = (missing or wrong)[0]
        raise FingerspellError(
            f"{source} does not hold torchvision {name} backbone weights: {len(missing)} tensors missing and "
            f"{len(wrong)} of the wrong shape (e.g. {example}); give the {name} ImageNet file to --pretrained-path"
        )
    with torch.no_grad():
        for k, v in own.items():
            v.copy_(state[k].to(v.dtype))
    return len(own)


def load_backbone_file(model: nn.Module, path: PathLike) -> int:
    """``--pretrained-path``: a torchvision state dict file into the backbone."""
    return load_backbone_state(model, read_state_dict(path), source=str(path))


def load_matching_weights(model: nn.Module, state: Dict[str, torch.Tensor]) -> Tuple[int, int]:
    """Copy every tensor whose name (after dropping leading name parts) and shape match.

    For ``--init-from`` and seed ``.pth`` files whose wrapper names differ (``mobilenet.features.0...``).
    Returns (loaded, total in model); raises when nothing matches.
    """
    own = unwrap(model).state_dict()
    by_name: Dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        parts = key.split(".")
        for i in range(len(parts)):
            cand = ".".join(parts[i:])
            if cand in own and cand not in by_name and tuple(own[cand].shape) == tuple(tensor.shape):
                by_name[cand] = tensor
                break
    if not by_name:
        raise FingerspellError(
            "no tensor in the given weights matches this model by name and shape: it was saved from "
            "another architecture; pick the matching --model"
        )
    with torch.no_grad():
        for k, v in by_name.items():
            own[k].copy_(v.to(own[k].dtype))
    return len(by_name), len(own)


def import_seed_checkpoint(
    path: PathLike, name: str, num_classes: int = 29, input_size: Optional[int] = None
) -> Tuple[nn.Module, Dict[str, int]]:
    """Build ``name`` and fill it from a seed-style ``.pth`` (loaded with ``weights_only=True``).

    The seed's networks differ from ours (misplaced attention, fixed flatten), so only tensors that
    match by name and shape are copied; the report says how many. Fine-tune the result.
    """
    model = build_model(name, num_classes, input_size)
    loaded, total = load_matching_weights(model, read_state_dict(path))
    return model, {"loaded": loaded, "total": total}


# --- checkpoints ---------------------------------------------------------------------------------

def checkpoint_paths(path: PathLike) -> Tuple[Path, Path]:
    """(weights, card) for ``runs/x/best``, ``runs/x/best.safetensors`` or ``runs/x/best.json``."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def atomic_write_json(path: PathLike, obj: Any) -> Path:
    return fileio.atomic_write_json(path, _jsonable(obj), indent=2)


def make_card(
    model: nn.Module,
    classes: Sequence[str],
    training: Optional[dict] = None,
    metrics: Optional[dict] = None,
) -> dict:
    """A model card for ``model`` (built by :func:`build_model`) predicting ``classes``."""
    build = _build_info(model)
    if len(classes) != build["num_classes"]:
        raise FingerspellError(
            f"{len(classes)} class names for a model with {build['num_classes']} outputs: they must match"
        )
    return {
        "format_version": CARD_VERSION,
        "architecture": build["architecture"],
        "classes": [str(c) for c in classes],
        "input_kind": build["input_kind"],
        "input_size": build["input_size"],
        "normalization": normalization_for(build["input_kind"]),
        "build_kwargs": build["kwargs"],
        "num_parameters": count_parameters(model),
        "training": dict(training or {}),
        "metrics": dict(metrics or {}),
    }


def _build_info(model: nn.Module) -> dict:
    info = getattr(unwrap(model), "fingerspell_build", None)
    if info is None:
        raise FingerspellError("this model was not made by fingerspell.models.build_model: cannot write its card")
    return info


_DERIVED_KEYS = ("format_version", "architecture", "input_kind", "input_size", "build_kwargs", "num_parameters")


def save_checkpoint(model: nn.Module, card: dict, path: PathLike, half: bool = False) -> Tuple[Path, Path]:
    """Write ``<path>.safetensors`` and ``<path>.json`` atomically; ``half`` stores fp16 weights."""
    from safetensors.torch import save as st_save

    build = _build_info(model)
    if "classes" not in card:
        raise FingerspellError("a checkpoint card needs 'classes' (the names the outputs stand for)")
    full = make_card(model, card["classes"], card.get("training"), card.get("metrics"))
    for key, value in card.items():
        if key in _DERIVED_KEYS:
            if _jsonable(value) != full[key]:
                raise FingerspellError(f"card says {key}={value!r} but the model has {full[key]!r}")
        elif key not in ("weights_file", "weights_dtype", "weights_sha256"):
            full[key] = _jsonable(value)
    state = {}
    for k, v in unwrap(model).state_dict().items():
        t = v.detach().to("cpu")
        if half and t.is_floating_point():
            t = t.to(torch.float16)
        state[k] = t.contiguous()
    blob = st_save(state, metadata={"format": "pt", "architecture": build["architecture"]})
    weights, card_path = checkpoint_paths(path)
    full["weights_file"] = weights.name
    full["weights_dtype"] = "float16" if half else "float32"
    full["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    fileio.atomic_write_bytes(weights, blob)
    atomic_write_json(card_path, full)
    return weights, card_path


def _load_safetensors(path: Path) -> Dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # SafetensorError, header JSON errors, truncated files
        raise FingerspellError(
            f"{path} is not a readable safetensors file ({type(exc).__name__}: {exc}); it is truncated or "
            "corrupt: copy it again or retrain"
        ) from None


REQUIRED_CARD_KEYS = {
    "format_version": int, "architecture": str, "classes": list, "input_kind": str, "input_size": int,
    "normalization": dict, "training": dict, "metrics": dict,
}


def read_card(path: PathLike) -> dict:
    """Read and check a model card without loading weights (the runtime uses it to pick preprocessing)."""
    _, card_path = checkpoint_paths(path)
    if not card_path.is_file():
        raise FingerspellError(
            f"model card {card_path} does not exist: a checkpoint is <name>.safetensors plus <name>.json"
        )
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FingerspellError(f"model card {card_path} is not valid JSON ({exc}): re-save the checkpoint") from None
    if not isinstance(card, dict):
        raise FingerspellError(f"model card {card_path} is not a JSON object: re-save the checkpoint")
    for key, typ in REQUIRED_CARD_KEYS.items():
        if not isinstance(card.get(key), typ) or (typ is int and isinstance(card.get(key), bool)):
            raise FingerspellError(
                f"model card {card_path} lacks a valid '{key}' ({typ.__name__}): re-save the checkpoint"
            )
    if card["format_version"] > CARD_VERSION:
        raise FingerspellError(
            f"model card {card_path} has format {card['format_version']}; this fingerspell reads up to "
            f"{CARD_VERSION}: upgrade fingerspell"
        )
    if card["architecture"] not in MODEL_NAMES:
        raise FingerspellError(
            f"model card {card_path} names architecture {card['architecture']!r}, which is not one of "
            f"{', '.join(MODEL_NAMES)}"
        )
    if card["input_kind"] != input_kind(card["architecture"]):
        raise FingerspellError(
            f"model card {card_path} says input_kind {card['input_kind']!r} but {card['architecture']} reads "
            f"{input_kind(card['architecture'])!r}: the card is wrong"
        )
    if len(card["classes"]) < 2 or not all(isinstance(c, str) for c in card["classes"]):
        raise FingerspellError(f"model card {card_path} has an invalid 'classes' list: re-save the checkpoint")
    return card


def load_checkpoint(path: PathLike, device: Union[str, torch.device] = "cpu") -> Tuple[nn.Module, dict]:
    """Rebuild the model from its card and load its weights: (model in eval mode, card).

    Missing files, garbage or truncated weights, invalid cards, and cards whose architecture or
    class count does not fit the weights' shapes all raise FingerspellError.
    """
    weights, card_path = checkpoint_paths(path)
    card = read_card(path)
    if not weights.is_file():
        raise FingerspellError(f"weights {weights} do not exist beside card {card_path}: copy both files")
    digest = card.get("weights_sha256")
    if digest and hashlib.sha256(weights.read_bytes()).hexdigest() != digest:
        raise FingerspellError(
            f"{weights} is not the file its card {card_path.name} was written with (checksum differs): it was "
            "replaced or damaged; copy the pair again"
        )
    state = _load_safetensors(weights)
    kwargs = card.get("build_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise FingerspellError(f"model card {card_path} has invalid 'build_kwargs': re-save the checkpoint")
    model = build_model(card["architecture"], len(card["classes"]), card["input_size"], **kwargs)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        detail = (f"{len(missing)} missing (e.g. {missing[:1]}), {len(unexpected)} unexpected "
                  f"(e.g. {unexpected[:1]}), {len(wrong)} of the wrong shape (e.g. {wrong[:1]})")
        raise FingerspellError(
            f"weights {weights} do not fit the card's {card['architecture']} with {len(card['classes'])} classes "
            f"and input size {card['input_size']}: {detail}; the card and weights come from different models"
        )
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)
    model.to(device)
    model.eval()
    return model, card
