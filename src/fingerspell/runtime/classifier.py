"""One small interface over a trained model, whichever engine runs it.

``Classifier.predict_proba(batch) -> (N, C)`` softmax probabilities, where ``batch`` is exactly
what :mod:`fingerspell.features` produces for the model's ``input_kind``. :class:`TorchClassifier`
runs a checkpoint in PyTorch; :class:`OnnxClassifier` runs an exported ``.onnx`` file with
onnxruntime on the CPU. :func:`load_classifier` picks one from a path or a shipped model name
(through :func:`fingerspell.models.checkpoint.resolve_model`); :func:`parity_check` compares the two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.features import input_for

PathLike = Union[str, Path]
BACKENDS = ("torch", "onnx")
# Model look-up lives in fingerspell.models.checkpoint; these names are still served from here, loaded
# on first use so that importing the runtime (and running an ONNX model) does not import torch.
_CHECKPOINT_NAMES = ("WEIGHTS_DIR", "card_summary", "default_model_path", "read_model_card", "resolve_model",
                     "resolve_model_path", "shipped_models")


def __getattr__(name: str):
    if name in _CHECKPOINT_NAMES:
        from fingerspell.models import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        self.input = input_for(card)
        self.input_kind: str = self.input.kind
        self.input_size: int = int(card["input_size"])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def expected_shape(self) -> Tuple[int, ...]:
        """The shape of one input row (without the batch axis)."""
        return self.input.shape

    def _check(self, batch: np.ndarray) -> np.ndarray:
        return self.input.check_shape(batch, what=self.card.get("architecture", "model"))

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
        """A checkpoint path (with or without suffix) or a shipped model name."""
        from fingerspell.models.checkpoint import resolve_model

        model, card = resolve_model(path).load()
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


# --- loading ------------------------------------------------------------------------------------------

def load_classifier(
    path: Optional[PathLike] = None,
    backend: Optional[str] = None,
    cache_dir: Optional[PathLike] = None,
    threads: Optional[int] = None,
) -> Tuple[Classifier, dict]:
    """(classifier, card) for a model path or shipped name, run by ``backend`` ("torch" | "onnx"; None:
    onnx for an ``.onnx`` file, else torch).

    ``path`` is anything :func:`~fingerspell.models.checkpoint.resolve_model` takes. With ``onnx`` a
    checkpoint is exported once into the cache (``cache_dir``, default
    ``$XDG_CACHE_HOME/fingerspell/onnx``) and reused while its weights are unchanged. ``threads`` sets
    the engine's intra-op threads (for torch process-wide); None keeps the engine's default.
    """
    if backend is not None and backend not in BACKENDS:
        raise FingerspellError(f"unknown backend {backend!r}: use 'torch' or 'onnx'")
    if threads is not None and threads < 1:
        raise FingerspellError(f"--threads {threads} must be at least 1")
    from fingerspell.models.checkpoint import resolve_model

    ref = resolve_model(path)
    backend = backend or ref.backend
    if ref.is_onnx:
        if backend == "torch":
            raise FingerspellError(f"{ref.path} is an ONNX file: run it with --backend onnx, or give the "
                                   ".safetensors checkpoint for --backend torch")
        clf: Classifier = OnnxClassifier(ref.path, ref.card(), threads=threads)
        return clf, clf.card
    if backend == "torch":
        if threads is not None:
            import torch

            torch.set_num_threads(int(threads))
        clf = TorchClassifier.from_checkpoint(ref.path)
        return clf, clf.card
    from fingerspell.models.checkpoint import read_model_card
    from fingerspell.runtime.onnx import cached_onnx

    onnx_path = cached_onnx(ref.path, cache_dir=cache_dir)
    clf = OnnxClassifier(onnx_path, read_model_card(onnx_path), threads=threads)
    return clf, clf.card


def parity_check(checkpoint: PathLike, onnx_path: PathLike, batch: int = 8, seed: int = 0) -> float:
    """Max abs difference of probabilities between PyTorch and onnxruntime on a random batch."""
    from fingerspell.models.checkpoint import read_model_card
    from fingerspell.runtime.onnx import example_input

    torch_clf = TorchClassifier.from_checkpoint(checkpoint)
    onnx_clf = OnnxClassifier(onnx_path, read_model_card(onnx_path))
    x = example_input(torch_clf.card, batch=batch, seed=seed)
    return float(np.max(np.abs(torch_clf.predict_proba(x) - onnx_clf.predict_proba(x))))
