"""One small interface over a trained model, whichever engine runs it.

``Classifier.predict_proba(batch) -> (N, C)`` softmax probabilities, where ``batch`` is exactly
what :mod:`fingerspell.features` produces for the model's ``input_kind``. :class:`TorchClassifier`
runs a checkpoint in PyTorch; :class:`OnnxClassifier` runs an exported ``.onnx`` file with
onnxruntime on the CPU. :func:`load_classifier` picks one from a path or a shipped model name.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from fingerspell.errors import FingerspellError

PathLike = Union[str, Path]
BACKENDS = ("torch", "onnx")
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
_CHECKPOINT_SUFFIXES = (".safetensors", ".json")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64 (stable), returned as float32."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


class Classifier:
    """A model that maps a feature batch to class probabilities, plus its card."""

    backend = "none"

    def __init__(self, card: dict) -> None:
        self.card = dict(card)
        self.classes: Tuple[str, ...] = tuple(card["classes"])
        self.input_kind: str = card["input_kind"]
        self.input_size: int = int(card["input_size"])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def expected_shape(self) -> Tuple[int, ...]:
        """The shape of one input row (without the batch axis)."""
        if self.input_kind == "mask":
            return (3, self.input_size, self.input_size)
        return (self.input_size,)

    def _check(self, batch: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(batch, dtype=np.float32)
        if x.ndim != 1 + len(self.expected_shape()) or tuple(x.shape[1:]) != self.expected_shape():
            raise FingerspellError(
                f"this {self.card.get('architecture', 'model')} reads {self.input_kind} batches of shape "
                f"(N, {', '.join(map(str, self.expected_shape()))}), got {tuple(x.shape)}: build input with "
                "fingerspell.features"
            )
        return x

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """(N, C) float32 probabilities; an empty batch gives (0, C) without running the model."""
        x = self._check(batch)
        if x.shape[0] == 0:
            return np.zeros((0, self.num_classes), dtype=np.float32)
        return softmax(self._logits(x))

    def _logits(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        pass


class TorchClassifier(Classifier):
    """A checkpoint run by PyTorch on the CPU (eval mode, no autograd)."""

    backend = "torch"

    def __init__(self, model, card: dict) -> None:
        super().__init__(card)
        self.model = model.eval()

    @classmethod
    def from_checkpoint(cls, path: PathLike) -> "TorchClassifier":
        from fingerspell.models.registry import load_checkpoint

        model, card = load_checkpoint(path)
        return cls(model, card)

    def _logits(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(torch.from_numpy(x)).float().numpy()


class OnnxClassifier(Classifier):
    """An exported ``.onnx`` model run by onnxruntime's CPUExecutionProvider."""

    backend = "onnx"

    def __init__(self, onnx_path: PathLike, card: dict, threads: Optional[int] = None) -> None:
        super().__init__(card)
        import onnxruntime as ort

        self.path = Path(onnx_path)
        if not self.path.is_file():
            raise FingerspellError(f"ONNX model {self.path} does not exist: export one with fingerspell export")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = int(threads)
        try:
            self.session = ort.InferenceSession(str(self.path), sess_options=opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise FingerspellError(f"{self.path} is not a loadable ONNX model ({type(exc).__name__}): "
                                   "export it again with fingerspell export") from None
        self.input_name = self.session.get_inputs()[0].name

    def _logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input_name: x})[0])


# --- finding models ----------------------------------------------------------------------------

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
        stem = marker.read_text(encoding="utf-8").strip()
        stem = stem[: -len(".safetensors")] if stem.endswith(".safetensors") else stem
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


def _strip_checkpoint_suffix(p: Path) -> Path:
    return p.with_suffix("") if p.suffix in _CHECKPOINT_SUFFIXES else p


def resolve_model_path(spec: Optional[PathLike] = None, weights_dir: Optional[PathLike] = None) -> Path:
    """A model argument -> a checkpoint path without suffix, or a ``.onnx`` path.

    Accepts a checkpoint path with or without ``.safetensors`` / ``.json``, a ``.onnx`` file, or the
    name of a shipped model; None means the shipped default.
    """
    if spec is None or str(spec) == "":
        return default_model_path(weights_dir)
    p = Path(spec).expanduser()
    if p.suffix == ".onnx":
        if not p.is_file():
            raise FingerspellError(f"ONNX model {p} does not exist: export one with fingerspell export")
        return p
    base = _strip_checkpoint_suffix(p)
    if base.with_name(base.name + ".safetensors").is_file() or base.with_name(base.name + ".json").is_file():
        return base
    root = Path(weights_dir) if weights_dir else WEIGHTS_DIR
    names = shipped_models(root)
    if str(spec) in names:
        return root / str(spec)
    raise FingerspellError(
        f"model {spec} not found: give a checkpoint path (<name>.safetensors with its <name>.json), a .onnx "
        f"file, or a shipped model name ({', '.join(names) or 'none shipped'})")


def read_model_card(path: PathLike) -> dict:
    """The card of a checkpoint (``<name>.json``) or of an exported ``<name>.onnx`` (its ``<name>.json``)."""
    from fingerspell.models.registry import read_card

    p = Path(path)
    if p.suffix == ".onnx":
        card_path = p.with_suffix(".json")
        if not card_path.is_file():
            raise FingerspellError(f"{p} has no model card {card_path.name} beside it: export it with "
                                   "fingerspell export, which writes both")
        return read_card(card_path)
    return read_card(p)


def load_classifier(
    path: Optional[PathLike] = None,
    backend: str = "torch",
    cache_dir: Optional[PathLike] = None,
    threads: Optional[int] = None,
) -> Tuple[Classifier, dict]:
    """(classifier, card) for a model path or shipped name, run by ``backend`` ("torch" | "onnx").

    With ``onnx`` a checkpoint is exported once into the cache (``cache_dir``, default
    ``~/.cache/fingerspell/onnx``) and reused while its weights are unchanged. ``threads`` sets
    the engine's intra-op threads (for torch process-wide); None keeps the engine's default.
    """
    if backend not in BACKENDS:
        raise FingerspellError(f"unknown backend {backend!r}: use 'torch' or 'onnx'")
    if threads is not None and threads < 1:
        raise FingerspellError(f"--threads {threads} must be at least 1")
    resolved = resolve_model_path(path)
    if resolved.suffix == ".onnx":
        if backend == "torch":
            raise FingerspellError(f"{resolved} is an ONNX file: run it with --backend onnx, or give the "
                                   ".safetensors checkpoint for --backend torch")
        card = read_model_card(resolved)
        clf: Classifier = OnnxClassifier(resolved, card, threads=threads)
        return clf, clf.card
    if backend == "torch":
        if threads is not None:
            import torch

            torch.set_num_threads(int(threads))
        clf = TorchClassifier.from_checkpoint(resolved)
        return clf, clf.card
    from fingerspell.runtime.onnx import cached_onnx

    onnx_path = cached_onnx(resolved, cache_dir=cache_dir)
    clf = OnnxClassifier(onnx_path, read_model_card(onnx_path), threads=threads)
    return clf, clf.card


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

