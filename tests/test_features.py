"""The input-kind objects of fingerspell.features, on hands MediaPipe found in real photos."""

from __future__ import annotations

import numpy as np
import pytest
from _tiny_model import mon95

from fingerspell.errors import FingerspellError
from fingerspell.features import (
    FEATURE_DIM,
    MaskInput,
    ModelInput,
    VectorInput,
    input_for,
    input_kinds,
    register_input,
)
from fingerspell.hands.detector import HandDetector
from fingerspell.hands.render import render_hand_mask


@pytest.fixture(scope="module")
def hands(data):
    with HandDetector(mode="image") as det:
        return [det.detect(mon95(data, 4, letter, 0))[0] for letter in "ALY"]


def test_input_for_a_card_a_name_or_an_object():
    mask = input_for({"input_kind": "mask", "input_size": 48})
    assert isinstance(mask, MaskInput) and mask.shape == (3, 48, 48)
    assert input_for("vector").shape == (FEATURE_DIM,)
    assert input_for(mask) is mask
    assert set(input_kinds()) >= {"mask", "vector"}
    with pytest.raises(FingerspellError, match="input kind 'video' is unknown"):
        input_for("video")
    with pytest.raises(FingerspellError, match=f"landmark vectors of length {FEATURE_DIM}, not 7"):
        input_for("vector", 7)


def test_mask_batch_holds_each_mask_and_its_mirror_and_pick_keeps_the_surer(hands):
    inp = input_for("mask", 32)
    batch = inp.batch_for_hands(hands)
    assert batch.shape == (2 * len(hands), 3, 32, 32) and batch.dtype == np.float32
    drawn = render_hand_mask(hands[0], size=32, mirror=True)
    assert np.array_equal(batch[1], drawn.transpose(2, 0, 1).astype(np.float32) / 255)
    probs = np.array([[0.6, 0.4], [0.1, 0.9], [0.7, 0.3], [0.5, 0.5], [0.2, 0.8], [0.9, 0.1]], np.float32)
    picked = inp.pick(probs, len(hands))
    assert [m for _, m in picked] == [True, False, True]
    assert np.array_equal(picked[0][0], probs[1])
    plain = input_for("mask", 32, mirror=False)
    assert plain.batch_for_hands(hands).shape[0] == len(hands)
    assert [m for _, m in plain.pick(probs[:3], 3)] == [False] * 3


def test_vector_rows_augmentation_and_example(hands):
    inp = VectorInput()
    raw = inp.from_hands(hands)
    assert raw.shape == (len(hands), FEATURE_DIM)
    assert np.array_equal(inp.batch_for_hands(hands), inp.to_model(raw))
    out = inp.augment(raw, np.random.default_rng(0))
    assert out.shape == raw.shape and not np.array_equal(out, raw)
    assert inp.example(batch=3).shape == (3, FEATURE_DIM)
    assert MaskInput(24).example(batch=2).shape == (2, 3, 24, 24)
    with pytest.raises(FingerspellError, match="reads vector batches"):
        inp.check_shape(np.zeros((2, 5), np.float32))


def test_a_new_kind_registers_in_one_line():
    class Doubled(ModelInput):
        kind = "doubled-test"
        dataset_field = "vectors"

    from fingerspell import features

    register_input(Doubled)
    try:
        assert isinstance(input_for({"input_kind": "doubled-test", "input_size": 3}), Doubled)
    finally:
        features._KINDS.pop("doubled-test")
