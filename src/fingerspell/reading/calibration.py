"""Personal calibration: adapt a trained model to one person's hand from a few samples per letter.

The adaptation leaves the base model untouched and never forgets a letter the person did not
record: whatever the method, only the probability the base model gives to the *recorded* letters is
re-divided among them; every other class keeps exactly its base probability.

* **auto** (the default): ``net``, blended with the base model's log-probabilities (``blend`` 0.5),
  so that samples from one sitting do not outweigh what the base model knows of other days.
* **net**: a copy of the model is fine-tuned on the samples (every weight, BatchNorm
  statistics frozen, 100 Adam steps), pulled towards the base weights (L2) and, for unrecorded
  classes, towards the base probabilities (distillation).
* **head**: the same for the last linear layer only, on the samples' embeddings (its input).
* **proto**: each recorded letter scores the cosine similarity of the frame's embedding to its
  nearest sample of that letter; ``softmax(log p_base + sim / T)`` among the recorded letters.

``benchmarks/calibration.py`` measured all three on people the models never saw (docs/calibration.md).

A profile is one safetensors file with a JSON card naming the base model and the sha256 of its
weights; a profile made for other weights is refused (:mod:`fingerspell.reading.profile_file`).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fingerspell.errors import FingerspellError

# the profile file and the base model's identity, here too for the callers of this module
from fingerspell.reading.profile_file import (  # noqa: F401
    PROFILE_FORMAT,
    PROFILE_VERSION,
    PathLike,
    Profile,
    check_profile,
    load_profile,
    model_identity,
    profile_card,
    save_profile,
    sha256_file,
)

FIT_METHODS = ("net", "head", "proto")
METHODS = ("auto",) + FIT_METHODS
DEFAULT_METHOD = "auto"
#: ``auto`` fine-tunes the whole network (``net``) and keeps the base model's view (``blend``
#: AUTO_BLEND: the fine-tuned scores plus half the base log-probabilities). docs/calibration.md:
#: calibrated in one recording session and read in another, the blend keeps a person's reading from
#: falling (mon95 user_5 at 5 samples: 89.6% -> 85.9% plain, 88.0% blended; mean +0.7 points);
#: within one set of photos it costs 0-0.3 points from 3 samples, and with one sample it is needed.
AUTO_BLEND = 0.5
DEFAULT_TEMPERATURE = 0.02
DEFAULT_BLEND = 0.0


# --- embeddings --------------------------------------------------------------------------------

class Embedder:
    """Runs a torch model once and returns (logits, embedding): the input of its class-score layer."""

    def __init__(self, module) -> None:
        from fingerspell.models.weights import final_linear

        self.module = module.eval()
        self.head = final_linear(module)  # the class scores' layer (not a LandmarkMLP expert's)
        if self.head is None:
            raise FingerspellError(f"{type(module).__name__} has no linear layer to calibrate on")

    def __call__(self, x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        import torch

        seen = []
        hook = self.head.register_forward_hook(lambda mod, inp, out: seen.append(inp[0]))
        try:
            with torch.inference_mode():
                logits = self.module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        finally:
            hook.remove()
        emb = seen[-1].reshape(seen[-1].shape[0], -1)
        return logits.float().numpy(), emb.float().numpy()

    def head_weights(self) -> Tuple[np.ndarray, np.ndarray]:
        w = self.head.weight.detach().float().numpy().copy()
        b = self.head.bias.detach().float().numpy().copy() if self.head.bias is not None else np.zeros(len(w))
        return w, b.astype(np.float32)


def embedder_for(classifier, model: Optional[PathLike] = None) -> Embedder:
    """The embedder of a torch classifier, or of the checkpoint ``model`` (for an ONNX classifier)."""
    module = getattr(classifier, "model", None)
    if module is None:
        from fingerspell.runtime.classifier import load_classifier

        module = getattr(load_classifier(model, backend="torch")[0], "model", None)
    if module is None:
        raise FingerspellError("profiles need a PyTorch checkpoint of the model: pass --model PATH")
    return Embedder(module)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# --- the profile -------------------------------------------------------------------------------

def fit_profile(classifier, inputs: np.ndarray, labels: np.ndarray, base: dict, method: str = DEFAULT_METHOD,
                source: str = "", embedder: Optional[Embedder] = None, **params) -> Profile:
    """Adapt ``classifier`` (whose checkpoint ``base`` is, see :func:`model_identity`) to the samples.

    inputs: (N, ...) model input rows (what :mod:`fingerspell.features` makes for its ``input_kind``);
    labels: (N,) class indices into ``classifier.classes``.
    """
    if method not in METHODS:
        raise FingerspellError(f"unknown calibration method {method!r}: use {' or '.join(METHODS)}")
    x = np.ascontiguousarray(inputs, dtype=np.float32)
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(x) == 0 or len(x) != len(y):
        raise FingerspellError(f"calibration needs samples with labels, got {len(x)} samples and {len(y)} labels")
    requested = method
    method, auto_params = resolve_method(method)
    params = {**auto_params, **params}
    classes = tuple(classifier.classes)
    if y.min() < 0 or y.max() >= len(classes):
        raise FingerspellError(f"calibration labels run outside the model's {len(classes)} classes")
    emb = embedder or embedder_for(classifier, base.get("path"))
    logits, z = emb(x)
    params = {"temperature": float(params.get("temperature", DEFAULT_TEMPERATURE)), **params}
    tensors = {"embeddings": _unit(z)}
    if method == "head":
        from fingerspell.reading.calibration_head import fit_head

        w, b = emb.head_weights()
        tensors = dict(zip(("head.weight", "head.bias"), fit_head(z, y, logits, w, b, **params)))
    elif method == "net":
        from fingerspell.reading.calibration_head import fit_net

        tensors = {f"net.{n}": v for n, v in fit_net(emb.module, x, y, logits, **params).items()}
    if params.get("gate"):  # measured, not the default (docs/calibration.md)
        from fingerspell.reading.calibration_head import adapted_letters

        params["adapt"] = [classes[i] for i in adapted_letters(_softmax(logits), y, float(params["gate"]))]
    arch = str(getattr(classifier, "card", {}).get("architecture", ""))
    card = profile_card(classes, base, y, method, params, source, arch)
    card["method_requested"] = requested
    if getattr(classifier, "card", {}).get("input_kind"):  # what the samples are, for a refit to check
        from fingerspell.features import input_signature

        card["base_model"]["input"] = input_signature(classifier.card)
    return Profile(x, y, card, tensors)


def resolve_method(method: str) -> Tuple[str, dict]:
    """(fitting method, its parameters) that ``method`` stands for: ``auto`` is ``net`` with the
    base model blended in (``blend`` AUTO_BLEND)."""
    if method != "auto":
        return method, {}
    return "net", {"blend": AUTO_BLEND}


def merge_samples(old: Profile, inputs: np.ndarray, labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The old profile's samples with the letters in ``labels`` replaced by the new samples."""
    keep = ~np.isin(old.labels, np.unique(labels))
    return (np.concatenate([old.inputs[keep], np.asarray(inputs, np.float32)]),
            np.concatenate([old.labels[keep], np.asarray(labels, np.int64)]))


# --- adapted probabilities ---------------------------------------------------------------------

def adapt_proba(profile: Profile, probs: np.ndarray, logits: np.ndarray, z: np.ndarray,
                net_logits: Optional[np.ndarray] = None) -> np.ndarray:
    """Adapted (N, C) probabilities from the base model's output and the frames' embeddings.

    Only the probability the base model gave to the recorded letters is re-divided among them;
    every other class keeps its base probability. ``net_logits``: the fine-tuned copy's (``net``).
    """
    recorded = np.unique(profile.labels)
    if "adapt" in profile.card["params"]:  # gated: only the letters the samples needed
        recorded = np.asarray([profile.classes.index(c) for c in profile.card["params"]["adapt"]], np.int64)
        if len(recorded) < 2:
            return np.asarray(probs, np.float32)
    p = np.asarray(probs, np.float64)
    mass = p[:, recorded].sum(axis=1, keepdims=True)
    blend = float(profile.card["params"].get("blend", DEFAULT_BLEND))
    if profile.method == "net":
        net = np.asarray(net_logits, np.float64)[:, recorded]
        inner = _softmax(net + blend * np.log(np.maximum(p[:, recorded], 1e-12)))
    elif profile.method == "head":
        w, b = profile.tensors["head.weight"], profile.tensors["head.bias"]
        head = (z.astype(np.float64) @ w.T.astype(np.float64) + b)[:, recorded]
        inner = _softmax(head + blend * np.log(np.maximum(p[:, recorded], 1e-12)))
    else:
        temp = float(profile.card["params"].get("temperature", DEFAULT_TEMPERATURE))
        sims = _unit(z) @ profile.tensors["embeddings"].T  # (N, S)
        best = np.stack([sims[:, profile.labels == c].max(axis=1) for c in recorded], axis=1)
        inner = _softmax(np.log(np.maximum(p[:, recorded], 1e-12)) + best / temp)
    out = p.copy()
    out[:, recorded] = inner * mass
    return out.astype(np.float32)


class ProfiledClassifier:
    """A classifier with a person's profile applied: same interface, adapted ``predict_proba``.

    Everything else (``classes``, ``card``, ``input_kind``, ...) is the wrapped classifier's.
    """

    def __init__(self, classifier, profile: Profile, embedder: Optional[Embedder] = None) -> None:
        if tuple(classifier.classes) != profile.classes:
            raise FingerspellError("the profile was made for a model with other classes: calibrate again "
                                   "with this model (fingerspell calibrate --model ...)")
        self.base = classifier
        self.profile = profile
        self.embedder = embedder or embedder_for(classifier)
        self._same_engine = getattr(classifier, "model", None) is self.embedder.module
        self._net = None
        if profile.method == "net":
            from fingerspell.reading.calibration_head import adapted_module

            params = {k[4:]: v for k, v in profile.tensors.items() if k.startswith("net.")}
            self._net = adapted_module(self.embedder.module, params)

    def __getattr__(self, name):
        if name == "base" or "base" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["base"], name)

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        return self.predict_with_base(batch)[0]

    def predict_with_base(self, batch: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(adapted, base model's) probabilities, from one pass of the base model."""
        x = np.ascontiguousarray(batch, dtype=np.float32)
        if x.shape[0] == 0:
            probs = self.base.predict_proba(x)
            return probs, probs
        if self._same_engine:
            x = self.base._check(x) if hasattr(self.base, "_check") else x
            logits, z = self.embedder(x)
            probs = _softmax(logits.astype(np.float64))
        else:
            probs = self.base.predict_proba(x)
            logits, z = self.embedder(x)
        return adapt_proba(self.profile, probs, logits, z, self._net_logits(x)), np.asarray(probs, np.float32)

    def _net_logits(self, x: np.ndarray) -> Optional[np.ndarray]:
        if self._net is None:
            return None
        import torch

        with torch.inference_mode():
            return self._net(torch.from_numpy(x)).float().numpy()

    def close(self) -> None:
        self.base.close()


def load_profiled_classifier(profile: PathLike, model: Optional[PathLike] = None, backend: str = "torch",
                             threads: Optional[int] = None):
    """(ProfiledClassifier, card) for ``--profile`` (a path or a stored profile name) and ``--model``."""
    from fingerspell.reading.profiles import resolve_profile
    from fingerspell.runtime.classifier import load_classifier

    path = resolve_profile(profile)
    prof = load_profile(path)
    base = model_identity(model)
    check_profile(prof, base, path)
    clf, card = load_classifier(base["path"], backend=backend, threads=threads)
    return ProfiledClassifier(clf, prof, embedder_for(clf, base["path"])), card
