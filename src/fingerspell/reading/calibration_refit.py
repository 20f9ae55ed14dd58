"""Fit a stored profile again for other weights, from the samples it keeps.

A profile is tied to the exact weights it was fitted on (:func:`~fingerspell.reading.calibration.check_profile`),
so new shipped weights (an upgrade) or another checkpoint refuse it. Its samples are stored as model
input, though, so where the new model reads the same input (the same kind, shape and normalisation)
nothing needs recording again: :func:`refit_profile` fits the same samples to the new model.

    fingerspell calibrate --refit me            # fitted again for the shipped model, in place
    fingerspell calibrate --refit me --model run/best --out me-run
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.features import input_signature
from fingerspell.reading.calibration import fit_profile


def check_same_input(profile, card: Mapping, where: str = "the profile") -> None:
    """Refuse samples recorded as other input than ``card``'s model reads (a clear error)."""
    new = input_signature(card)
    old = profile.card["base_model"].get("input")
    shape = list(np.asarray(profile.inputs).shape[1:])
    if (old is not None and old != new) or shape != new["shape"]:
        was = old or {"kind": "model", "shape": shape}
        raise FingerspellError(
            f"{where} keeps its samples as {was['kind']} input of shape {tuple(was['shape'])}, and this model "
            f"reads {new['kind']} input of shape {tuple(new['shape'])}: record the letters again with "
            "fingerspell calibrate --source ... --overwrite")


def relabel(profile, classes) -> np.ndarray:
    """The profile's labels as indices into ``classes``; letters the model lacks are an error."""
    names = [profile.classes[i] for i in profile.labels]
    missing = sorted(set(names) - set(classes))
    if missing:
        raise FingerspellError(f"the model has no class {', '.join(missing)} that the profile recorded: "
                               "refit with --model set to a model that reads those letters")
    return np.array([list(classes).index(n) for n in names], np.int64)


def refit_profile(profile, classifier, base: dict, method: Optional[str] = None, where: str = "the profile"):
    """A new profile for ``classifier`` (whose checkpoint ``base`` is) from ``profile``'s samples,
    with the method asked for when it was made unless ``method`` is given."""
    check_same_input(profile, classifier.card, where)
    y = relabel(profile, classifier.classes)
    card = profile.card
    method = method or card.get("method_requested", card["method"])
    new = fit_profile(classifier, profile.inputs, y, base, method=method, source=str(card.get("source", "")))
    made = card["base_model"]
    new.card["refit_from"] = {"name": made.get("name"), "sha256": made.get("sha256"), "created": card.get("created")}
    return new
