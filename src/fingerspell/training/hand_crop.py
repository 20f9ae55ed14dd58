"""Training the hand-crop model (:mod:`fingerspell.models.hand_crop`) on a dataset's photos.

The dataset files hold landmarks and photo paths, not pixels: :func:`dataset_crops` crops every
row's hand from its photo once and caches the crops beside the dataset
(``<name>.crops<size>.npz``, rebuilt when the dataset is newer). :func:`train_hand_crop` trains the
CNN from scratch: AdamW, one-cycle schedule, label smoothing 0.1, each batch turned (±15°), scaled
(±12%), shifted (±8%) and given another light (gain ±30%, gamma e^±0.4). J and Z photos train as
the I and D shapes they show, as the landmark model's recipe does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from fingerspell.data.exceptions import MOTION_LETTER_SHAPES
from fingerspell.hands.crop import CROP_SIZE, crop_hand
from fingerspell.labels import LETTERS

#: The letters the crop model reads: the still ones (J and Z are the motion reader's).
STILL_LETTERS = tuple(c for c in LETTERS if c not in MOTION_LETTER_SHAPES)
RECIPE = {"epochs": 15, "batch_size": 128, "lr": 2e-3, "weight_decay": 5e-4, "label_smoothing": 0.1}


def dataset_crops(npz: Path, size: int = CROP_SIZE, log: Callable[[str], None] = print) -> np.ndarray:
    """(N, size, size) uint8 crops of a dataset file's rows in its row order (zeros: no hand, or the
    photo is no longer readable)."""
    import cv2

    npz = Path(npz)
    cache = npz.with_name(f"{npz.stem}.crops{size}.npz")
    if cache.exists() and cache.stat().st_mtime >= npz.stat().st_mtime:
        return np.load(cache)["crops"]
    raw = np.load(npz)
    paths, lms, hand, no_hand = raw["paths"], raw["landmarks"], raw["handedness"], raw["no_hand"]
    out = np.zeros((len(paths), size, size), np.uint8)
    unread = 0
    for i, p in enumerate(paths):
        if no_hand[i]:
            continue
        img = cv2.imread(str(p))
        if img is None:
            unread += 1
            continue
        out[i] = crop_hand(img, lms[i], hand[i] == 0, size)
    if unread:
        log(f"warning: {unread} photos of {npz.name} could not be read again; their rows train without pixels")
    part = cache.with_name(cache.stem + ".part.npz")
    np.savez_compressed(part, crops=out)
    part.replace(cache)
    return out


def crops_by_path(npz_files: Sequence[Path], size: int = CROP_SIZE) -> dict:
    """{photo path: crop} over the rows of dataset files (:func:`dataset_crops`), for picking the rows
    of a dataset that was filtered or concatenated after loading."""
    table = {}
    for npz in npz_files:
        table.update(zip(map(str, np.load(npz)["paths"]), dataset_crops(Path(npz), size)))
    return table


def still_letter_index(classes: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """Each row's index in :data:`STILL_LETTERS` (J as I, Z as D; -1 for SPACE, DEL, NOTHING)."""
    names = [MOTION_LETTER_SHAPES.get(classes[i], classes[i]) for i in labels]
    return np.array([STILL_LETTERS.index(n) if n in STILL_LETTERS else -1 for n in names], dtype=np.int64)


def _augment(x, gen):
    import torch
    import torch.nn.functional as F

    n = x.shape[0]

    def uniform(*shape):
        return torch.rand(*shape, generator=gen) * 2 - 1

    ang, sc = uniform(n) * (15 * np.pi / 180), 1 + uniform(n) * 0.12
    tx, ty = uniform(n) * 0.08, uniform(n) * 0.08
    theta = torch.stack([torch.stack([torch.cos(ang) / sc, -torch.sin(ang) / sc, tx], 1),
                         torch.stack([torch.sin(ang) / sc, torch.cos(ang) / sc, ty], 1)], 1)
    x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), padding_mode="border",
                      align_corners=False)
    gain, gamma = 1 + uniform(n, 1, 1, 1) * 0.3, torch.exp(uniform(n, 1, 1, 1) * 0.4)
    return (x.clamp(0, 1) ** gamma) * gain


def train_hand_crop(crops: np.ndarray, labels: np.ndarray, epochs: int = RECIPE["epochs"], seed: int = 0,
                    log: Optional[Callable[[str], None]] = print, card: Optional[dict] = None):
    """A :class:`~fingerspell.models.hand_crop.HandCropModel` trained on ``crops`` (N, S, S) uint8 with
    ``labels`` indexing :data:`STILL_LETTERS`."""
    import torch
    import torch.nn.functional as F

    from fingerspell.models.hand_crop import ARCHITECTURE, FUSION_WEIGHT, HandCropModel, build_crop_net, standardise

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = build_crop_net(len(STILL_LETTERS))
    x_all = torch.from_numpy(np.ascontiguousarray(crops)).float().unsqueeze(1) / 255.0
    y_all = torch.from_numpy(np.asarray(labels)).long()
    bs = RECIPE["batch_size"]
    opt = torch.optim.AdamW(net.parameters(), lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=RECIPE["lr"],
                                                total_steps=max(1, epochs * int(np.ceil(len(y_all) / bs))))
    t0 = time.perf_counter()
    for ep in range(epochs):
        net.train()
        order = torch.randperm(len(y_all), generator=gen)
        total = 0.0
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            loss = F.cross_entropy(net(standardise(_augment(x_all[idx], gen))), y_all[idx],
                                   label_smoothing=RECIPE["label_smoothing"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if log:
            took = time.perf_counter() - t0
            log(f"hand crops: epoch {ep + 1}/{epochs}, loss {total / len(y_all):.3f} ({took:.0f} s)")
    info = {"architecture": ARCHITECTURE, "format_version": 1, "classes": list(STILL_LETTERS),
            "input_size": int(crops.shape[1]), "fusion_weight": FUSION_WEIGHT,
            "training": {"rows": int(len(y_all)), "epochs": epochs, "seed": seed, "recipe": RECIPE,
                         "seconds": round(time.perf_counter() - t0, 1)}}
    return HandCropModel(net, {**info, **(card or {})})
