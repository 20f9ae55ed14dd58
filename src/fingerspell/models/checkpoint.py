"""Checkpoints: the model card, safetensors save/load, the shipped weights, and :func:`resolve_model`.

A checkpoint is two files side by side:

* ``<path>.safetensors``: the weights (fp32, or fp16 when saved with ``half=True``; fp16 weights load
  back into fp32 models);
* ``<path>.json``: the model card, enough to rebuild the model and feed it correctly:
  ``format_version``, ``architecture`` (one of :data:`~fingerspell.models.registry.MODEL_NAMES`),
  ``classes``, ``input_kind`` and ``input_size`` (see :func:`fingerspell.features.input_for`),
  ``normalization``, ``build_kwargs``, ``training``, ``metrics``, ``weights_dtype``,
  ``weights_sha256``, ``num_parameters``.

An exported ``<name>.onnx`` carries a copy of its card as ``<name>.json``. Every command names a
model the same way, through :func:`resolve_model`: a shipped model name (``landmark_mlp``), a
checkpoint path with or without its suffix, or an ``.onnx`` file (which selects the ONNX backend).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from fingerspell.errors import FingerspellError
from fingerspell.fileio import atomic_write_bytes
from fingerspell.fileio import atomic_write_json as _write_json
from fingerspell.models.limits import check_card_limits, check_parameter_budget, foreign_model_file
from fingerspell.models.registry import (
    MODEL_NAMES,
    build_model,
    count_parameters,
    input_kind,
    jsonable,
    normalization_for,
)
from fingerspell.models.weights import load_matching_weights, load_safetensors, read_state_dict, unwrap

CARD_VERSION = 1
PathLike = Union[str, Path]
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
CHECKPOINT_SUFFIXES = (".safetensors", ".json")


def checkpoint_paths(path: PathLike) -> Tuple[Path, Path]:
    """(weights, card) for ``runs/x/best``, ``runs/x/best.safetensors`` or ``runs/x/best.json``."""
    p = Path(path)
    if p.suffix in CHECKPOINT_SUFFIXES:
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def atomic_write_json(path: PathLike, obj: Any) -> Path:
    return _write_json(path, jsonable(obj), indent=2)


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
            if jsonable(value) != full[key]:
                raise FingerspellError(f"card says {key}={value!r} but the model has {full[key]!r}")
        elif key not in ("weights_file", "weights_dtype", "weights_sha256"):
            full[key] = jsonable(value)
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
    atomic_write_bytes(weights, blob)
    atomic_write_json(card_path, full)
    return weights, card_path


REQUIRED_CARD_KEYS = {
    "format_version": int, "architecture": str, "classes": list, "input_kind": str, "input_size": int,
    "normalization": dict, "training": dict, "metrics": dict,
}


def read_card(path: PathLike) -> dict:
    """Read and check a model card without loading weights (the runtime uses it to pick preprocessing)."""
    _, card_path = checkpoint_paths(path)
    if not card_path.is_file():
        foreign = foreign_model_file(path)  # a .pth that exists is no "missing card"
        if foreign is not None:
            raise foreign
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
    check_card_limits(card, card_path)  # sane sizes, before anything is allocated
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
    state = load_safetensors(weights)
    kwargs = card.get("build_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise FingerspellError(f"model card {card_path} has invalid 'build_kwargs': re-save the checkpoint")
    def build() -> nn.Module:
        return build_model(card["architecture"], len(card["classes"]), card["input_size"], **kwargs)

    check_parameter_budget(build, card_path)  # counted on the meta device: no memory
    model = build()
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


# --- naming models: shipped names, checkpoint paths, .onnx files ------------------------------------

def shipped_models(weights_dir: Optional[PathLike] = None) -> List[str]:
    """Stems of the checkpoints shipped in ``fingerspell/weights`` (both files present), sorted."""
    root = Path(weights_dir) if weights_dir else WEIGHTS_DIR
    if not root.is_dir():
        return []
    return sorted(p.stem for p in root.glob("*.safetensors") if p.with_suffix(".json").is_file())


def default_model_path(weights_dir: Optional[PathLike] = None) -> Path:
    """The shipped default checkpoint (no suffix): ``weights/default.txt`` names it, else the first."""
    root = Path(weights_dir) if weights_dir else WEIGHTS_DIR
    names = shipped_models(root)
    marker = root / "default.txt"
    if marker.is_file():
        stem = checkpoint_paths(marker.read_text(encoding="utf-8").strip())[0].stem
        if stem not in names:
            raise FingerspellError(
                f"{marker} names model {stem!r}, but {root} holds no {stem}.safetensors + {stem}.json: "
                f"fix default.txt (shipped: {', '.join(names) or 'none'}) or pass --model PATH")
        return root / stem
    if not names:
        raise FingerspellError(
            f"no model given and none shipped in {root}: pass --model PATH to a checkpoint written by "
            "fingerspell train (its .safetensors or .json file)")
    return root / names[0]


@dataclass(frozen=True)
class ModelRef:
    """A resolved model argument: a checkpoint (``path`` without suffix) or an ``.onnx`` file."""

    path: Path
    backend: str  # "torch" for a checkpoint, "onnx" for an exported file

    @property
    def is_onnx(self) -> bool:
        return self.backend == "onnx"

    @property
    def card_path(self) -> Path:
        return self.path.with_suffix(".json") if self.is_onnx else checkpoint_paths(self.path)[1]

    def card(self) -> dict:
        """The model card, checked, without loading weights."""
        return read_model_card(self.path)

    def load(self, device: Union[str, torch.device] = "cpu") -> Tuple[nn.Module, dict]:
        """(PyTorch model in eval mode, card); an ``.onnx`` file has no PyTorch weights to load."""
        if self.is_onnx:
            raise FingerspellError(f"{self.path} is an ONNX file: give the .safetensors checkpoint it was "
                                   "exported from")
        return load_checkpoint(self.path, device=device)


def resolve_model(spec: Optional[PathLike] = None, weights_dir: Optional[PathLike] = None) -> ModelRef:
    """A model argument -> :class:`ModelRef`; None or "" means the shipped default.

    Accepts a checkpoint path with or without ``.safetensors`` / ``.json``, a ``.onnx`` file, or the
    name of a shipped model.
    """
    if spec is None or str(spec) == "":
        return ModelRef(default_model_path(weights_dir), "torch")
    p = Path(spec).expanduser()
    if p.suffix == ".onnx":
        if not p.is_file():
            raise FingerspellError(f"ONNX model {p} does not exist: export one with fingerspell export")
        return ModelRef(p, "onnx")
    weights, card = checkpoint_paths(p)
    if weights.is_file() or card.is_file():
        return ModelRef(weights.with_suffix(""), "torch")
    foreign = foreign_model_file(p)  # a .pth or a folder that exists is no "not found"
    if foreign is not None:
        raise foreign
    root = Path(weights_dir) if weights_dir else WEIGHTS_DIR
    names = shipped_models(root)
    if str(spec) in names:
        return ModelRef(root / str(spec), "torch")
    if len(p.parts) > 1:  # a path, not a name
        raise FingerspellError(f"checkpoint {weights} does not exist (nor {card.name}): give a checkpoint path "
                               f"written by fingerspell train, or a shipped model name ({', '.join(names) or 'none'})")
    raise FingerspellError(
        f"model {spec} not found: give a checkpoint path (<name>.safetensors with its <name>.json), a .onnx "
        f"file, or a shipped model name ({', '.join(names) or 'none shipped'})")


def resolve_model_path(spec: Optional[PathLike] = None, weights_dir: Optional[PathLike] = None) -> Path:
    """:func:`resolve_model`'s path: a checkpoint path without suffix, or the ``.onnx`` file."""
    return resolve_model(spec, weights_dir).path


def read_model_card(path: PathLike) -> dict:
    """The card of a checkpoint (``<name>.json``) or of an exported ``<name>.onnx`` (its ``<name>.json``)."""
    p = Path(path)
    if p.suffix == ".onnx":
        card_path = p.with_suffix(".json")
        if not card_path.is_file():
            raise FingerspellError(f"{p} has no model card {card_path.name} beside it: export it with "
                                   "fingerspell export, which writes both")
        return read_card(card_path)
    return read_card(p)


def init_state(spec: PathLike) -> Dict[str, torch.Tensor]:
    """Tensors to start training from (``--init-from``): a fingerspell checkpoint or shipped model name,
    or a plain state dict file (torchvision, a seed ``.pth``)."""
    p = Path(spec).expanduser()
    if p.suffix == ".onnx":
        resolve_model(spec).load()  # one line: an ONNX file has no PyTorch weights, give its checkpoint
    if p.is_file() and p.suffix not in CHECKPOINT_SUFFIXES:
        return read_state_dict(p)
    if p.suffix == ".safetensors" and p.is_file() and not checkpoint_paths(p)[1].is_file():
        return read_state_dict(p)  # a bare safetensors state dict without a card
    return unwrap(resolve_model(spec).load()[0]).state_dict()


def card_summary(card: dict) -> str:
    """One line naming a model for logs and transcripts."""
    metrics = card.get("metrics") or {}
    extra = ""
    for key in ("val_accuracy", "accuracy", "test_accuracy"):
        if isinstance(metrics.get(key), (int, float)):
            extra = f", {key} {metrics[key]:.3f}"
            break
    return (f"{card.get('architecture')} ({card.get('input_kind')} {card.get('input_size')}, "
            f"{len(card.get('classes', []))} classes{extra})")
