"""A calibration profile as a file, and the base model it belongs to.

A profile is one safetensors file: the samples as model input (``inputs``, ``labels``), what the
fitting method needs (``net.<weight name>``, ``head.weight`` / ``head.bias`` or ``embeddings``) and,
in the file header's metadata under ``card``, a JSON card naming the base model and the sha256 of
its weights file (:func:`model_identity`). A profile made for other weights is refused
(:func:`check_profile`). No pickle anywhere. Fitting and reading with a profile:
:mod:`fingerspell.reading.calibration`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.fileio import atomic_write_bytes

PathLike = Union[str, Path]
PROFILE_FORMAT = "fingerspell-profile"
PROFILE_VERSION = 1
_SHA_CACHE: Dict[Tuple[str, int, int], str] = {}


def sha256_file(path: PathLike) -> str:
    """Hex sha256 of a file (cached by path, size and mtime)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


def model_identity(model: Optional[PathLike] = None) -> dict:
    """``{"name", "path", "sha256"}`` of a checkpoint (path, shipped name or None for the default)."""
    from fingerspell.runtime.classifier import resolve_model_path

    base = resolve_model_path(model)
    if base.suffix == ".onnx":
        raise FingerspellError(f"{base} is an ONNX file: calibrate against its checkpoint (the .safetensors "
                               "it was exported from); --backend onnx can still run the profile")
    weights = base.with_name(base.name + ".safetensors")
    if not weights.is_file():
        raise FingerspellError(f"model {model or base} has no weights file {weights}: give a checkpoint path")
    return {"name": base.name, "path": str(base), "sha256": sha256_file(weights)}



@dataclass
class Profile:
    """Samples of one person (model input rows and class indices), the method's tensors and a card."""

    inputs: np.ndarray
    labels: np.ndarray
    card: dict
    tensors: Dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def classes(self) -> Tuple[str, ...]:
        return tuple(self.card["base_model"]["classes"])

    @property
    def letters(self) -> Tuple[str, ...]:
        return tuple(self.card["letters"])

    @property
    def method(self) -> str:
        return self.card["method"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fingerspell")
    except PackageNotFoundError:
        return "unknown"


def profile_card(classes: Sequence[str], base: dict, labels: np.ndarray, method: str, params: dict,
          source: str, architecture: str) -> dict:
    recorded = sorted(set(labels.tolist()))
    return {
        "format": PROFILE_FORMAT, "format_version": PROFILE_VERSION,
        "base_model": {"name": base["name"], "sha256": base["sha256"], "path": base.get("path", ""),
                       "architecture": architecture,
                       "classes": list(classes)},
        "letters": [classes[i] for i in recorded],
        "samples_per_letter": {classes[i]: int((labels == i).sum()) for i in recorded},
        "method": method, "params": params, "source": source,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "fingerspell_version": _version(),
    }


def save_profile(profile: Profile, path: PathLike, overwrite: bool = False) -> Path:
    """Write the profile atomically; an existing file is replaced only with ``overwrite``."""
    from safetensors.numpy import save

    out = Path(path).expanduser()
    if out.exists() and not overwrite:
        raise FingerspellError(f"profile {out} already exists: pass --update to add to it, --overwrite to "
                               "replace it, or choose another --out")
    tensors = {"inputs": profile.inputs.astype(np.float32), "labels": profile.labels.astype(np.int64)}
    tensors.update({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in profile.tensors.items()})
    return atomic_write_bytes(out, save(tensors, metadata={"card": json.dumps(profile.card)}))


def load_profile(path: PathLike) -> Profile:
    """Read a profile file; a clear error for a missing, foreign or damaged file."""
    from safetensors import safe_open

    p = Path(path).expanduser()
    if not p.is_file():
        raise FingerspellError(f"profile {p} does not exist: make one with fingerspell calibrate, or see "
                               "fingerspell calibrate --list")
    try:
        with safe_open(str(p), framework="numpy") as fh:
            card = json.loads((fh.metadata() or {})["card"])
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # safetensors raises its own error types for a damaged header
        raise FingerspellError(f"{p} is not a readable calibration profile ({type(exc).__name__}): make it "
                               "again with fingerspell calibrate") from None
    if card.get("format") != PROFILE_FORMAT or "inputs" not in tensors or "labels" not in tensors:
        raise FingerspellError(f"{p} is not a fingerspell calibration profile: make one with fingerspell calibrate")
    if int(card.get("format_version", 0)) > PROFILE_VERSION:
        raise FingerspellError(f"{p} was written by a newer fingerspell (profile format "
                               f"{card.get('format_version')}): upgrade fingerspell or calibrate again")
    inputs, labels = tensors.pop("inputs"), tensors.pop("labels").astype(np.int64)
    return Profile(inputs, labels, card, tensors)


def check_profile(profile: Profile, base: dict, where: PathLike = "the profile") -> None:
    """Refuse a profile made for other weights than ``base`` (see :func:`model_identity`)."""
    made = profile.card["base_model"]
    if made.get("sha256") != base["sha256"]:
        raise FingerspellError(
            f"{where} was made for model {made.get('name')} (sha256 {str(made.get('sha256'))[:12]}), not for "
            f"{base['name']} (sha256 {base['sha256'][:12]}): fit it to this model from its samples with "
            f"fingerspell calibrate --refit {where}, or use --model {made.get('path') or made.get('name')}")
