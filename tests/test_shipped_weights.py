"""The weights shipped inside the package: present in a built wheel, cards complete, and they read
real photos right (through the same recognizer code the apps use)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fingerspell.hands.detector import HandDetector, load_image
from fingerspell.labels import CLASSES
from fingerspell.models.checkpoint import WEIGHTS_DIR, default_model_path, read_card
from fingerspell.runtime.classifier import load_classifier
from fingerspell.runtime.recognizer import Recognizer

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("landmark_mlp", "mobilenetv2")
PHOTOS = [f"asl-alphabets/test/{c}/{c}{k}.jpg" for c, k in
          [("A", 3), ("B", 4), ("C", 5), ("L", 6), ("V", 7), ("W", 8), ("Y", 9)]] + \
         [f"mon95/user_5/{c}0.jpg" for c in "ABLVY"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_card_is_complete(name):
    card = read_card(WEIGHTS_DIR / name)
    assert card["classes"] == list(CLASSES)
    assert card["weights_dtype"] == "float16"
    assert (WEIGHTS_DIR / f"{name}.safetensors").stat().st_size < 8 * 2**20
    assert card["training"]["recipe"].startswith("python scripts/make_weights.py")
    assert set(card["training"]["data"]) == {"asl_train.npz", "asl_test.npz", "massey.npz", "mon95.npz"}
    unseen = card["metrics"]["unseen_signers"]
    assert {"massey-loso", "to-mon95"} <= set(unseen)
    assert all(0.0 < v["end_to_end_accuracy"] <= 1.0 for v in unseen.values())


def test_default_model_is_shipped_and_named():
    name = (WEIGHTS_DIR / "default.txt").read_text().strip()
    assert name in SHIPPED
    assert default_model_path().name.startswith(name)


@pytest.mark.parametrize("name,backend,need", [("landmark_mlp", "torch", 10), ("landmark_mlp", "onnx", 10),
                                               ("mobilenetv2", "torch", 8)])
def test_shipped_model_reads_real_photos(data, name, backend, need, tmp_path):
    clf, card = load_classifier(name, backend=backend, cache_dir=tmp_path)
    with HandDetector(mode="image", max_hands=1, min_detection_confidence=0.5) as det:
        rec = Recognizer(det, clf, card)
        right = 0
        for rel in PHOTOS:
            hands = det.detect(load_image(data / rel))
            assert hands, rel
            probs, _ = rec.classify(hands)[0]
            assert probs.shape == (len(CLASSES),) and np.isclose(probs.sum(), 1.0, atol=1e-4)
            right += CLASSES[int(np.argmax(probs))] == Path(rel).stem[0]
    assert right >= need, f"{name} read {right} of {len(PHOTOS)} photos right"


def test_a_built_wheel_carries_the_weights(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(REPO)], check=True, timeout=300)
    wheel = next(tmp_path.glob("fingerspell-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SHIPPED:
        assert f"fingerspell/weights/{name}.safetensors" in names
        assert f"fingerspell/weights/{name}.json" in names
    assert "fingerspell/weights/default.txt" in names
    for suffix in ("safetensors", "json"):  # the hand-crop model read beside the landmark model
        assert f"fingerspell/weights/pixels/hand_crop.{suffix}" in names


def test_weights_recipe_runs_end_to_end_at_a_tiny_size(tmp_path):
    out = tmp_path / "weights"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "make_weights.py"), "--tiny", "--quiet",
                           "--out", str(out), "--threads", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in SHIPPED:
        card = read_card(out / name)
        assert card["weights_dtype"] == "float16"
        load_classifier(str(out / name))
    assert (out / "default.txt").read_text().strip() in SHIPPED
    from fingerspell.models.hand_crop import HandCropModel

    crop = HandCropModel.load(out / "pixels" / "hand_crop")
    assert crop.card["training"]["epochs"] == 1 and len(crop.letters) == 24
