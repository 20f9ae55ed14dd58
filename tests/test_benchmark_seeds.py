"""benchmarks/seeds.py: the goal figures over every seed's result file."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import seeds  # noqa: E402


def _write(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def _row(rows, family, figure):
    return next(r for r in rows if r["family"] == family and r["figure"] == figure)


def test_each_goal_is_judged_on_every_seed_not_the_best_one(tmp_path):
    plain = {"seed": 0, "adapt": False, "pixels": False, "fps": 30.0, "dim": 0.0, "reps": 2,
             "datasets": ["mon95", "massey"], "train_on": "signers", "epochs": 40}
    _write(tmp_path / "accuracy.json", {"landmark_mlp/to-mon95": {"accuracy_given_hand": 0.91},
                                        "landmark_mlp/mon95-loso": {"accuracy_given_hand": 0.98, "per_letter": {
                                            "A": [10, 10], "C": [8, 10], "O": [9, 10]}},
                                        "mobilenetv2/to-mon95": {"accuracy_given_hand": 0.5}})
    _write(tmp_path / "accuracy_s1.json", {"landmark_mlp/to-mon95": {"accuracy_given_hand": 0.88}})
    _write(tmp_path / "words.json", {"settings": plain, "summary": {
        "sim 1.0": {"raw_accuracy": 0.96, "decoded_accuracy": 0.99}}})
    _write(tmp_path / "words_s1.json", {"settings": {**plain, "seed": 1}, "summary": {
        "sim 1.0": {"raw_accuracy": 0.97, "decoded_accuracy": 0.985}}})
    _write(tmp_path / "words_s2.json", {"settings": {**plain, "seed": 2, "pixels": True}, "summary": {
        "sim 1.0": {"raw_accuracy": 0.10, "decoded_accuracy": 0.10}}})  # another setting: not this goal's
    _write(tmp_path / "calibration_s1" / "calibration.json", {"summary": {
        "5": {"auto": 0.995, "never_worse": True}, "1": {"auto": 0.98, "never_worse": False}}})
    rows = seeds.summarize(tmp_path)
    r = _row(rows, "accuracy", "to-mon95")
    assert r["seeds"] == {0: 0.91, 1: 0.88} and r["mean"] == pytest.approx(0.895) and r["worst"] == 0.88
    assert seeds._verdict(r) == "missed by 0.50 points"  # one seed over the goal does not meet it
    weakest = _row(rows, "accuracy", "mon95-loso weakest letter")
    assert weakest["seeds"] == {0: 0.8} and weakest["names"] == {0: "C"}
    assert seeds._verdict(weakest) == "missed by 10.00 points"
    spelled, decoded = _row(rows, "words", "sim 1.0 as spelled"), _row(rows, "words", "sim 1.0 decoded")
    assert spelled["seeds"] == {0: 0.96, 1: 0.97} and seeds._verdict(spelled) == "met by every seed"
    assert seeds._verdict(decoded) == "met by every seed"
    cal = _row(rows, "calibration", "k=5")
    assert cal["seeds"] == {1: 0.995}
    assert seeds._verdict(_row(rows, "calibration", "no signer made worse at any k")) == "missed by 1 of 1 seeds"
    assert seeds._verdict(_row(rows, "hand_pixels", "to-mon95")) == "not run"
    md = seeds.table(rows)
    assert "| 11 | accuracy | to-mon95 | 90% | 0,1 | 91.0 / 88.0 | 89.50% | 2.1 | missed by 0.50 points |" in md
