"""The training recipes of the shipped models: one table, read by ``scripts/make_weights.py`` (the
shipped weights) and ``benchmarks/accuracy.py`` (their unseen-signer figures), so both train alike.

Vector models: 128-row batches at lr 3e-3 (the small MLP is stable there and converges in tens of
epochs), J and Z photos trained as the I and D hand shapes they show; mask CNNs: 100-row batches at
lr 1e-3. Both: Adam, weight decay 1e-4, a cosine schedule,
no validation split (every signer's rows train; the last epoch is kept).
"""

from __future__ import annotations

from typing import Optional

from fingerspell.labels import CLASSES
from fingerspell.models.registry import input_kind
from fingerspell.training.options import TrainOptions

#: LandmarkMLP's expert re-divides R, U and V with palm-frame features (docs/accuracy_features.md).
EXPERT_LETTERS = ("R", "U", "V")

RECIPES = {
    # static_letters: J photos train as I and Z photos as D (each is one frame of the motion, showing
    # that hand shape), so the static model never claims a motion letter; J and Z come from the
    # hand's path (reading/motion.py). docs/accuracy_features.md: accuracy-neutral (±1 point).
    # sign_offset: SPACE, DEL and NOTHING scores lowered by 2 after training, so a letter of an unseen
    # signer is rarely taken for one of those signs (benchmarks/sign_offset.py).
    # model_kwargs: the R/U/V expert (models/landmark_mlp.py).
    # second_readings: each photo's hand read again on the mirrored photo trains too
    # (hands/second_look.py; benchmarks/flip_variants.py).
    "vector": {"batch_size": 128, "lr": 3e-3, "epochs": 60, "static_letters": True, "sign_offset": 2.0,
               "second_readings": True,
               "model_kwargs": (("expert_classes", tuple(CLASSES.index(c) for c in EXPERT_LETTERS)),)},
    "mask": {"batch_size": 100, "lr": 1e-3, "epochs": 15, "input_size": 96},
}
COMMON = {"val_fraction": 0.0, "patience": None, "weight_decay": 1e-4, "lr_schedule": "cosine", "seed": 0,
          "plot": False, "overwrite": True}


def recipe_options(model: str, data: tuple, out: str, epochs: Optional[int] = None,
                   input_size: Optional[int] = None, **run) -> TrainOptions:
    """TrainOptions of ``model``'s recipe; ``epochs``/``input_size`` override the table (masks only take a
    size), ``run`` sets run settings (device, threads, num_workers, progress, seed)."""
    kind = input_kind(model)
    recipe = dict(RECIPES[kind])
    if epochs is not None:
        recipe["epochs"] = epochs
    if input_size is not None and "input_size" in recipe:
        recipe["input_size"] = input_size
    recipe.setdefault("input_size", None)
    return TrainOptions.flat(**{**COMMON, **recipe, **run, "data": tuple(data), "model": model, "out": out})
