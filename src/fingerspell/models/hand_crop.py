"""The hand-crop model: a small CNN on the hand's grey pixels, read beside the landmark model.

The landmark model sees MediaPipe's 21 points only; where MediaPipe guesses a joint it cannot see
(the thumb inside a fist, a C seen from the side) the pixels still show it. This model reads the
hand's crop (:func:`fingerspell.hands.crop.crop_hand`, 48 px grey, each crop standardised) and its
probabilities over the 24 still letters are fused with the landmark model's reading:

    p(letter) proportional to p_landmarks(letter) * p_pixels(letter) ** fusion_weight

within the landmark model's letter mass, so SPACE, DEL, NOTHING and the motion letters keep the
landmark model's probabilities. With the weight 0.5 a sure landmark reading stands; the pixels
decide between letters the landmarks leave open (docs/accuracy_features.md, "Hand pixels beside
the landmarks", ``benchmarks/hand_pixels.py``).

A checkpoint is ``<name>.safetensors`` plus ``<name>.json`` (architecture ``hand_crop``, classes,
input size, fusion weight); the shipped one lies in ``fingerspell/weights/pixels/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.hands.crop import CROP_SIZE, crop_hand

ARCHITECTURE = "hand_crop"
FUSION_WEIGHT = 0.5
#: A landmark reading whose top letter is this many times likelier than the runner-up is kept as it
#: is, without reading the pixels: at w = 0.5 the pixels would need a ratio of this squared (10^6)
#: the other way; the shipped model's widest ratio over the 9,447 hand crops of the four data sets is
#: 2.4 x 10^5.
SURE_RATIO = 1000.0
SHIPPED_PATH = Path(__file__).resolve().parents[1] / "weights" / "pixels" / "hand_crop"
PathLike = Union[str, Path]


def build_crop_net(num_classes: int):
    """Five 3x3 conv layers (32-64-128-128-192 channels, the first with stride 2), global pooling
    (torch is imported here and where the model runs, so that naming this module costs nothing)."""
    from torch import nn

    def conv(i: int, o: int, stride: int = 1) -> list:
        return [nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

    return nn.Sequential(*conv(1, 32, 2), *conv(32, 64), nn.MaxPool2d(2), *conv(64, 128), *conv(128, 128),
                         nn.MaxPool2d(2), *conv(128, 192), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Dropout(0.3), nn.Linear(192, num_classes))


def standardise(x):
    """Each crop to zero mean and unit spread (the room's light and the camera's gain drop out)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) / x.std(dim=(1, 2, 3), keepdim=True).clamp_min(1e-3)


def crops_to_tensor(crops: np.ndarray):
    """(N, S, S) uint8 crops -> standardised float tensor (N, 1, S, S)."""
    import torch

    return standardise(torch.from_numpy(np.ascontiguousarray(crops)).float().unsqueeze(1) / 255.0)


def _for_inference(net):
    """A copy of ``net`` with each BatchNorm folded into its conv, in channels-last layout: the same
    output (to 1e-5) in about 2 ms instead of 3 on one core for one crop."""
    import torch
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    layers, out, i = list(net), [], 0
    while i < len(layers):
        if isinstance(layers[i], nn.Conv2d) and i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d):
            out.append(fuse_conv_bn_eval(layers[i], layers[i + 1]))
            i += 2
        else:
            out.append(layers[i])
            i += 1
    return nn.Sequential(*out).eval().to(memory_format=torch.channels_last)


class HandCropModel:
    """A loaded hand-crop model: :meth:`read` crops and reads hands, :meth:`fuse` joins a landmark reading."""

    def __init__(self, net, card: dict) -> None:
        self.net = net.eval()
        self._fast = _for_inference(self.net)
        self.card = dict(card)
        self.letters: Tuple[str, ...] = tuple(card["classes"])
        self.size = int(card.get("input_size", CROP_SIZE))
        self.weight = float(card.get("fusion_weight", FUSION_WEIGHT))
        self._indices: dict = {}

    # --- files ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: PathLike) -> "HandCropModel":
        from safetensors.torch import load_file

        base = Path(path)
        base = base.with_suffix("") if base.suffix in (".safetensors", ".json") else base
        weights, card_path = base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json")
        if not weights.is_file() or not card_path.is_file():
            raise FingerspellError(f"hand-crop model {base} not found: it is {weights.name} plus {card_path.name} "
                                   "(scripts/make_weights.py writes the shipped one)")
        try:
            card = json.loads(card_path.read_text())
        except (OSError, ValueError) as exc:
            raise FingerspellError(f"hand-crop model card {card_path} is not readable JSON ({exc}): "
                                   "write it again with scripts/make_weights.py") from None
        if card.get("architecture") != ARCHITECTURE or not card.get("classes"):
            raise FingerspellError(f"{card_path} is not a hand-crop model card (architecture "
                                   f"{card.get('architecture')!r}): give the hand_crop checkpoint")
        net = build_crop_net(len(card["classes"]))
        try:
            state = {k: v.float() for k, v in load_file(str(weights)).items()}
            net.load_state_dict(state)
        except Exception as exc:  # safetensors header errors, shape or key mismatches
            raise FingerspellError(f"hand-crop weights {weights} do not fit its card ({str(exc).splitlines()[0]}): "
                                   "write the pair again with scripts/make_weights.py") from None
        return cls(net, card)

    @classmethod
    def shipped(cls) -> Optional["HandCropModel"]:
        """The shipped model, or None where this install has none."""
        if not SHIPPED_PATH.with_name(SHIPPED_PATH.name + ".safetensors").is_file():
            return None
        return cls.load(SHIPPED_PATH)

    def save(self, path: PathLike, half: bool = True) -> None:
        from safetensors.torch import save as st_save

        from fingerspell.fileio import atomic_write_bytes, atomic_write_json

        base = Path(path)
        state = {k: (v.half() if half and v.is_floating_point() else v).contiguous()
                 for k, v in self.net.state_dict().items()}
        atomic_write_bytes(base.with_name(base.name + ".safetensors"), st_save(state))
        atomic_write_json(base.with_name(base.name + ".json"), self.card, indent=2)

    # --- reading -------------------------------------------------------------------------------
    def predict_crops(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S) uint8 crops -> (N, len(letters)) probabilities."""
        import torch

        out = []
        with torch.inference_mode():
            for s in range(0, len(crops), 256):
                x = crops_to_tensor(crops[s:s + 256]).contiguous(memory_format=torch.channels_last)
                out.append(torch.softmax(self._fast(x), 1).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.letters)), np.float32)

    def read(self, frame: np.ndarray, hands: Sequence) -> np.ndarray:
        """Per hand (:class:`~fingerspell.hands.landmarks.Hand` in ``frame``) its letter probabilities."""
        crops = np.stack([crop_hand(frame, h.landmarks, h.is_left, self.size) for h in hands])
        return self.predict_crops(crops)

    def fuse(self, probs: np.ndarray, pixels: np.ndarray, classes: Sequence[str]) -> np.ndarray:
        """The landmark model's ``probs`` over ``classes`` joined with this model's ``pixels``."""
        mine, theirs = self._index(tuple(classes))
        if not len(mine):
            return probs
        p = np.asarray(probs, dtype=np.float64).copy()
        mass = p[mine].sum()
        joint = np.log(p[mine] + 1e-12) + self.weight * np.log(np.asarray(pixels, np.float64)[theirs] + 1e-12)
        joint = np.exp(joint - joint.max())
        p[mine] = mass * joint / joint.sum()
        return p.astype(np.asarray(probs).dtype)

    def _index(self, classes: Tuple[str, ...]) -> Tuple[np.ndarray, np.ndarray]:
        """(positions in ``classes``, positions in :attr:`letters`) of the letters both read; worked
        out once per class list (every frame asks for the same)."""
        if classes not in self._indices:
            pairs = [(i, self.letters.index(c)) for i, c in enumerate(classes) if c in self.letters]
            self._indices[classes] = (np.array([i for i, _ in pairs], int), np.array([j for _, j in pairs], int))
        return self._indices[classes]

    def fuse_readings(self, frame: np.ndarray, hands: Sequence, readings: List[Tuple[np.ndarray, bool]],
                      classes: Sequence[str]) -> List[Tuple[np.ndarray, bool]]:
        """:meth:`fuse` for each hand's (probabilities, mirrored) reading of one frame; a reading the
        pixels could not turn (:data:`SURE_RATIO`) is kept without reading them (most still frames)."""
        open_ = [i for i, (p, _) in enumerate(readings) if not is_sure(p)]
        if not open_:
            return readings
        pixels = self.read(frame, [hands[i] for i in open_])
        out = list(readings)
        for i, q in zip(open_, pixels):
            out[i] = (self.fuse(readings[i][0], q, classes), readings[i][1])
        return out


def is_sure(probs: np.ndarray) -> bool:
    top2 = np.partition(np.asarray(probs, np.float64), -2)[-2:]
    return bool(top2[1] >= SURE_RATIO * max(top2[0], 1e-12))


def crop_model_for(model: Optional[PathLike], card: dict, pixels: bool = True) -> Optional[HandCropModel]:
    """The hand-crop model to read beside ``model`` (a model argument as the commands take it, None:
    the shipped default; ``card`` its card): the shipped one for a shipped landmark model, which was
    measured with it; None for any other model (a user's or a benchmark's fold model, whose people
    the shipped crop model may have seen), or when ``pixels`` is off."""
    if not pixels or card.get("architecture") != "landmark_mlp":
        return None
    from fingerspell.models.checkpoint import WEIGHTS_DIR, resolve_model

    ref = resolve_model(model)
    if ref.is_onnx or ref.path.resolve().parent != Path(WEIGHTS_DIR).resolve():
        return None
    return HandCropModel.shipped()
