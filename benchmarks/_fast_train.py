"""Fast LandmarkMLP training on stored landmark points, for the feature and label experiments.

The shipped recipe (``fingerspell.training`` as ``benchmarks/accuracy.py`` runs it: LandmarkMLP
256-128, dropout 0.3, Adam lr 3e-3, weight decay 1e-4, cosine schedule, batch 128, the default
vector augmentation, last epoch kept) done on whole arrays: the augmentation of
:func:`fingerspell.data.augment.augment_points` is applied to every training row at once each
epoch (same operations, same default strengths), then the feature variant is computed. That
is ~20x faster than the per-row path on one CPU thread and lets a variant recompute its features
after augmentation, as the real pipeline would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Optional

import numpy as np
import torch
from torch import nn

from fingerspell.data.augment import DEFAULT_OPTIONS, PARENT, AugmentOptions, random_flex
from fingerspell.hands import shape
from fingerspell.hands.landmarks import NUM_LANDMARKS
from fingerspell.models.landmark_mlp import LandmarkMLP
from fingerspell.training.data import class_weights

_PALM_PAIRS = ((0, 5), (0, 9), (0, 17), (5, 17))


def base_features(p: np.ndarray) -> np.ndarray:
    """Today's landmark vector (hands/landmarks.py), batched: points, tip/thumb distances, cosines."""
    p = p - p[:, :1]
    return np.concatenate([p.reshape(len(p), -1), shape._invariants(p)], axis=1).astype(np.float32)


def _local(p: np.ndarray) -> np.ndarray:
    return shape.shape_features(p)[:, : shape.LOCAL_DIM]


def fit_frame(p: np.ndarray) -> np.ndarray:
    """Palm frame from a plane fitted to the wrist and the four knuckles (less depth noise?)."""
    p = p - p[:, :1]
    palm = p[:, [0, 5, 9, 13, 17]]
    centred = palm - palm.mean(1, keepdims=True)
    normal = np.linalg.svd(centred)[2][:, 2]
    ref = np.cross(p[:, 5], p[:, 17])
    normal = normal * np.where(np.sum(normal * ref, -1) < 0, -1.0, 1.0)[:, None]
    mid = p[:, 9]
    pointing = shape._unit(mid - np.sum(mid * normal, -1, keepdims=True) * normal)
    return np.stack([np.cross(pointing, normal), pointing, normal], axis=1)


def shape_orient_fit(p: np.ndarray) -> np.ndarray:
    p = p - p[:, :1]
    f = fit_frame(p)
    local = np.einsum("nij,nkj->nki", f, p)[:, 1:].reshape(len(p), -1)
    return np.concatenate([local, shape._invariants(p), f[:, 2], f[:, 1]], axis=1).astype(np.float32)


def world_shape_orient(p: np.ndarray) -> np.ndarray:
    """Shape from the world landmarks (second half of the 42 points), orientation from the image."""
    return shape.shape_vector_from_points(p[:, :NUM_LANDMARKS], p[:, NUM_LANDMARKS:])


def base_world(p: np.ndarray) -> np.ndarray:
    img, world = p[:, :NUM_LANDMARKS], p[:, NUM_LANDMARKS:]
    return np.concatenate([base_features(img), _local(world), shape.orientation_features(img)], axis=1)


pair_features = shape.pair_features  # the hard-pair quantities (hands/shape.py)

# Mean bone lengths (child of PARENT[i], i = 1..20) in palm sizes over asl-alphabets' train photos.
CANON_LENGTHS = np.array([0.50, 0.48, 0.41, 0.32, 1.12, 0.46, 0.30, 0.25, 1.06, 0.47, 0.34, 0.25,
                          1.00, 0.43, 0.34, 0.25, 0.97, 0.35, 0.25, 0.20])


def bone_dirs(p: np.ndarray) -> np.ndarray:
    """(N, 20, 3) unit vectors of the 20 bones, parent to child."""
    v = p[:, 1:] - p[:, list(PARENT[1:])]
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-8)


def canonical(p: np.ndarray, fingers_only: bool = False) -> np.ndarray:
    """The hand rebuilt from its bone directions with everyone's mean bone lengths (a signer's
    proportions gone, the pose and its turn kept); ``fingers_only`` keeps the palm as measured."""
    d = bone_dirs(p)
    q = np.zeros_like(p)
    for i in range(1, 21):
        parent = PARENT[i]
        if fingers_only and parent == 0:
            q[:, i] = p[:, i] - p[:, 0]
        else:
            q[:, i] = q[:, parent] + d[:, i - 1] * CANON_LENGTHS[i - 1]
    return q


VARIANTS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    # today's vector: camera-frame points + invariants
    "base": base_features,
    # palm-frame points + invariants only: no orientation at all
    "shape": shape.shape_features,
    # palm-frame points + invariants + palm normal and pointing direction
    "shape_orient": shape.shape_vector_from_points,
    # today's vector + the palm normal and pointing direction
    "base_orient": lambda p: np.concatenate([base_features(p), shape.orientation_features(p)], axis=1),
    # as shape_orient, the palm plane fitted to the wrist and four knuckles
    "shape_orient_fit": shape_orient_fit,
    # today's vector with MediaPipe's depth scaled down (is z what fails to transfer?)
    "base_zhalf": lambda p: base_features(p * np.array([1.0, 1.0, 0.5])),
    "base_2d": lambda p: base_features(p * np.array([1.0, 1.0, 0.0])),
    # today's vector + a few hard-pair quantities (+ orientation)
    "base_pairs": lambda p: np.concatenate([base_features(p), pair_features(p)], axis=1),
    "base_pairs_orient": lambda p: np.concatenate(
        [base_features(p), pair_features(p), shape.orientation_features(p)], axis=1),
    # need --world: the shape part from MediaPipe's world landmarks
    "world_shape_orient": world_shape_orient,
    "world_base_shape_orient": base_world,
    # today's vector of the hand rebuilt with mean bone lengths (docs/accuracy_features.md, 2026-12-05)
    "canon": lambda p: base_features(canonical(p)),
    "canon_fingers": lambda p: base_features(canonical(p, fingers_only=True)),
    # today's vector + the 20 bones' unit directions
    "base_bones": lambda p: np.concatenate([base_features(p), bone_dirs(p).reshape(len(p), -1)], axis=1),
    # today's vector + palm-frame points + orientation
    "base_shape_orient": lambda p: np.concatenate(
        [base_features(p), _local(p), shape.orientation_features(p)], axis=1),
}


def palm_sizes(p: np.ndarray) -> np.ndarray:
    return np.mean([np.linalg.norm(p[:, a] - p[:, b], axis=-1) for a, b in _PALM_PAIRS], axis=0)


def _rotations(axis: str, angles: np.ndarray) -> np.ndarray:
    c, s = np.cos(angles), np.sin(angles)
    z, o = np.zeros_like(c), np.ones_like(c)
    rows = {"y": [[c, z, s], [z, o, z], [-s, z, c]], "x": [[o, z, z], [z, c, -s], [z, s, c]],
            "z": [[c, -s, z], [s, c, z], [z, z, o]]}[axis]
    return np.moveaxis(np.array(rows), -1, 0)  # (N, 3, 3)


def augment_batch(points: np.ndarray, rng: np.random.Generator, opts: AugmentOptions = DEFAULT_OPTIONS) -> np.ndarray:
    """:func:`fingerspell.data.augment.augment_points` on (N, 21, 3) at once; zero rows stay zero.

    (N, 42, 3) holds image points then world points: each half is augmented on its own."""
    p = np.asarray(points, np.float64)
    if p.shape[1] == 2 * NUM_LANDMARKS:
        return np.concatenate([augment_batch(p[:, :NUM_LANDMARKS], rng, opts),
                               augment_batch(p[:, NUM_LANDMARKS:], rng, opts)], axis=1)
    empty = ~p.reshape(len(p), -1).any(axis=1)
    p = p - p[:, :1]
    n = len(p)
    yaw = _rotations("y", np.deg2rad(rng.uniform(-opts.view_yaw_deg, opts.view_yaw_deg, n)))
    pitch = _rotations("x", np.deg2rad(rng.uniform(-opts.view_pitch_deg, opts.view_pitch_deg, n)))
    p = np.einsum("nij,nkj->nki", pitch @ yaw, p)
    if opts.finger_flex_deg > 0:
        p = random_flex(p, rng, opts.finger_flex_deg)
    if opts.bone_scale > 0:
        f = rng.uniform(1 - opts.bone_scale, 1 + opts.bone_scale, (n, NUM_LANDMARKS))
        out = p.copy()
        for j in range(1, NUM_LANDMARKS):
            out[:, j] = out[:, PARENT[j]] + f[:, j, None] * (p[:, j] - p[:, PARENT[j]])
        p = out
    rot = _rotations("z", np.deg2rad(rng.uniform(-opts.vector_rotate_deg, opts.vector_rotate_deg, n)))
    p = np.einsum("nij,nkj->nki", rot, p)
    p = p * rng.uniform(*opts.vector_scale, size=(n, 1, 3))
    if opts.joint_jitter > 0:
        p = p + rng.normal(0.0, opts.joint_jitter, size=p.shape)
    mirror = rng.random(n) < opts.mirror_p
    p[mirror, :, 0] *= -1
    p = p - p[:, :1]
    size = palm_sizes(p)
    ok = np.isfinite(size) & (size > 1e-6)
    p[ok] /= size[ok, None, None]
    p[empty] = 0.0
    return p


@dataclass(frozen=True)
class Recipe:
    epochs: int = 40
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    hidden: tuple = (256, 128)
    dropout: float = 0.3
    augment: bool = True
    class_weighting: bool = False
    augment_options: AugmentOptions = DEFAULT_OPTIONS
    label_smoothing: float = 0.0
    mixup: float = 0.0  # Beta(a, a) mixing of feature rows and their targets; 0 = off


def train_mlp(points: np.ndarray, labels: np.ndarray, num_classes: int, features: Callable,
              recipe: Recipe = Recipe(), seed: int = 0, extra_weight: Optional[np.ndarray] = None) -> nn.Module:
    """Train a LandmarkMLP on ``features(augmented points)``; returns the model in eval mode."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dim = features(points[:2]).shape[1]
    model = LandmarkMLP(num_classes, input_size=dim, hidden=recipe.hidden, dropout=recipe.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    weight = class_weights(labels, num_classes) if recipe.class_weighting else None
    if extra_weight is not None:
        weight = (weight if weight is not None else torch.ones(num_classes)) * torch.as_tensor(extra_weight).float()
    loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=recipe.label_smoothing)
    y_all = torch.from_numpy(labels.astype(np.int64))
    n = len(labels)
    for epoch in range(recipe.epochs):
        for g in opt.param_groups:
            g["lr"] = recipe.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / recipe.epochs))
        pts = augment_batch(points, rng, recipe.augment_options) if recipe.augment else points
        x_all = torch.from_numpy(np.ascontiguousarray(features(pts), dtype=np.float32))
        order = torch.from_numpy(rng.permutation(n))
        model.train()
        for i in range(0, n, recipe.batch_size):
            idx = order[i:i + recipe.batch_size]
            if len(idx) < 2:
                continue
            opt.zero_grad(set_to_none=True)
            if recipe.mixup > 0:
                lam = float(rng.beta(recipe.mixup, recipe.mixup))
                other = idx[torch.from_numpy(rng.permutation(len(idx)))]
                out = model(lam * x_all[idx] + (1 - lam) * x_all[other])
                loss = lam * loss_fn(out, y_all[idx]) + (1 - lam) * loss_fn(out, y_all[other])
            else:
                loss = loss_fn(model(x_all[idx]), y_all[idx])
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def predict_proba(model: nn.Module, points: np.ndarray, features: Callable) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(features(points), dtype=np.float32))
    return torch.softmax(model(x), dim=1).numpy()
