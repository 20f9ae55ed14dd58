"""The hand-crop model read beside the landmark model: the crop, the fusion, the shipped weights on
real photos, which models get it, and clear errors for a wrong file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from _tiny_model import tiny_mlp

from fingerspell.errors import FingerspellError
from fingerspell.hands.crop import CROP_SIZE, crop_hand
from fingerspell.hands.detector import HandDetector, load_image
from fingerspell.labels import CLASSES
from fingerspell.models.hand_crop import SHIPPED_PATH, HandCropModel, crop_model_for
from fingerspell.training.hand_crop import STILL_LETTERS

# Still letters of signers from three sources (the shipped crop model trained on these photos: this
# checks that the shipped weights load and read, not how they read people they never saw)
PHOTOS = [f"asl-alphabets/test/{c}/{c}{k}.jpg" for c, k in [("A", 3), ("B", 4), ("C", 5), ("O", 2), ("Y", 9)]] + \
         [f"mon95/user_5/{c}0.jpg" for c in "ABLV"] + ["mon95/user_5/Y5.jpg",  # (Y0-Y4: not a Y, docs/labels.md)
                                                      "massey/c/hand1_c_bot_seg_1_cropped.jpeg"]


@pytest.fixture(scope="module")
def hands(data):
    out = []
    with HandDetector(mode="image", max_hands=1, min_detection_confidence=0.5) as det:
        for rel in PHOTOS:
            img = load_image(data / rel)
            found = det.detect(img)
            assert found, rel
            out.append((rel, img, found[0]))
    return out


def test_a_left_hand_is_cropped_as_the_mirrored_right_hand(hands):
    _, img, hand = hands[0]
    crop = crop_hand(img, hand.landmarks, left=False)
    assert crop.shape == (CROP_SIZE, CROP_SIZE) and crop.dtype == np.uint8 and crop.std() > 10
    flipped = img[:, ::-1].copy()
    lm = hand.landmarks.copy()
    lm[:, 0] = 1.0 - lm[:, 0]  # the same hand in the mirrored photo: a left hand
    mirrored = crop_hand(flipped, lm, left=True)
    assert np.abs(mirrored.astype(int) - crop.astype(int)).mean() < 3  # the same pixels (one px of resampling)
    assert np.abs(crop_hand(flipped, lm, left=False).astype(int) - crop.astype(int)).mean() > 10


def test_the_crop_follows_the_hand_not_the_photo_size(hands):
    _, img, hand = hands[5]  # mon95: the hand is small in a 320x240 frame
    big = np.zeros((img.shape[0] * 2, img.shape[1] * 2, 3), np.uint8)
    big[: img.shape[0], : img.shape[1]] = img  # the same hand in a frame twice the size
    lm = hand.landmarks.copy()
    lm[:, :2] /= 2
    a, b = crop_hand(img, hand.landmarks, False), crop_hand(big, lm, False)
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 4


def test_fusion_keeps_the_signs_and_lets_a_sure_landmark_reading_stand():
    model = HandCropModel.shipped()
    assert model is not None
    probs = np.full(len(CLASSES), 0.001)
    probs[CLASSES.index("A")], probs[CLASSES.index("SPACE")] = 0.9, 0.05
    probs /= probs.sum()
    pixels = np.full(len(STILL_LETTERS), 0.01)
    pixels[STILL_LETTERS.index("S")] = 1 - 0.01 * 23  # the pixels say S
    fused = model.fuse(probs, pixels, CLASSES)
    assert np.isclose(fused.sum(), 1.0)
    for sign in ("SPACE", "DEL", "NOTHING", "J", "Z"):  # not the crop model's: unchanged
        assert np.isclose(fused[CLASSES.index(sign)], probs[CLASSES.index(sign)])
    assert CLASSES[int(np.argmax(fused))] == "A"  # a sure landmark A stands
    assert fused[CLASSES.index("S")] > probs[CLASSES.index("S")] * 5  # but S gained
    unsure = probs.copy()
    unsure[CLASSES.index("A")], unsure[CLASSES.index("S")] = 0.5, 0.4
    assert CLASSES[int(np.argmax(model.fuse(unsure / unsure.sum(), pixels, CLASSES)))] == "S"


def test_a_reading_the_pixels_could_not_turn_is_kept_without_reading_them(hands, monkeypatch):
    model = HandCropModel.shipped()
    _, img, hand = hands[2]  # a C
    sure = np.full(len(CLASSES), 1e-6)
    sure[CLASSES.index("O")] = 1.0
    unsure = np.full(len(CLASSES), 1.0 / len(CLASSES))
    calls = []
    monkeypatch.setattr(model, "read", lambda frame, hs: calls.append(len(hs)) or HandCropModel.read(model, frame, hs))
    kept = model.fuse_readings(img, [hand], [(sure, False)], CLASSES)
    assert kept[0][0] is sure and calls == []
    (fused, mirrored), = model.fuse_readings(img, [hand], [(unsure, True)], CLASSES)
    assert calls == [1] and mirrored and CLASSES[int(np.argmax(fused))] == "C"  # an open reading: the pixels decide
    both = model.fuse_readings(img, [hand, hand], [(sure, False), (unsure, False)], CLASSES)
    assert calls == [1, 1] and both[0][0] is sure and CLASSES[int(np.argmax(both[1][0]))] == "C"


def test_the_shipped_crop_model_reads_real_photos(hands):
    model = HandCropModel.shipped()
    assert model.letters == STILL_LETTERS and model.size == CROP_SIZE
    crops = np.stack([crop_hand(img, h.landmarks, h.is_left, model.size) for _, img, h in hands])
    probs = model.predict_crops(crops)
    assert probs.shape == (len(PHOTOS), len(STILL_LETTERS)) and np.allclose(probs.sum(1), 1, atol=1e-4)
    truth = [Path(rel).stem[0].upper() if "massey" not in rel else "C" for rel, _, _ in hands]
    right = sum(STILL_LETTERS[int(k)] == t for k, t in zip(probs.argmax(1), truth))
    assert right >= 9, f"read {right} of {len(PHOTOS)}"


def test_the_shipped_landmark_model_reads_with_pixels_and_others_do_not(data, tmp_path):
    import fingerspell

    with fingerspell.load() as reader:
        assert isinstance(reader.crop_model, HandCropModel)
        with_pixels = reader.predict(data / PHOTOS[2])
    with fingerspell.load(pixels=False) as reader:
        assert reader.crop_model is None
        alone = reader.predict(data / PHOTOS[2])
    assert with_pixels.letter == alone.letter == "C"
    mlp = tiny_mlp(data)  # a user's (or a benchmark fold's) model: the shipped crop model is not joined
    assert crop_model_for(str(mlp), json.loads(Path(str(mlp) + ".json").read_text())) is None
    card = json.loads((SHIPPED_PATH.parents[1] / "mobilenetv2.json").read_text())
    assert crop_model_for("mobilenetv2", card) is None


def test_the_commands_take_no_pixels():
    from fingerspell.apps import recognizer_from_args
    from fingerspell.cli import build_parser

    for flag, expect in (([], HandCropModel), (["--no-pixels"], type(None))):
        args = build_parser().parse_args(["run", "--source", "x.mp4"] + flag)
        with recognizer_from_args(args) as rec:
            assert isinstance(rec.crop_model, expect)


def test_a_wrong_crop_model_file_gets_a_clear_error(tmp_path):
    base = tmp_path / "hand_crop"
    with pytest.raises(FingerspellError, match="not found"):
        HandCropModel.load(base)
    shutil.copy(str(SHIPPED_PATH) + ".safetensors", str(base) + ".safetensors")
    Path(str(base) + ".json").write_text("{not json")
    with pytest.raises(FingerspellError, match="not readable JSON"):
        HandCropModel.load(base)
    card = json.loads(Path(str(SHIPPED_PATH) + ".json").read_text())
    Path(str(base) + ".json").write_text(json.dumps({**card, "architecture": "landmark_mlp"}))
    with pytest.raises(FingerspellError, match="not a hand-crop model card"):
        HandCropModel.load(base)
    Path(str(base) + ".json").write_text(json.dumps({**card, "classes": card["classes"][:5]}))
    with pytest.raises(FingerspellError, match="do not fit its card") as err:
        HandCropModel.load(base)
    assert "\n" not in str(err.value)
    Path(str(base) + ".safetensors").write_bytes(b"garbage")
    Path(str(base) + ".json").write_text(json.dumps(card))
    with pytest.raises(FingerspellError, match="do not fit its card"):
        HandCropModel.load(base)
