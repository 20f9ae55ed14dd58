"""The threshold note: a model whose right answers sit under the live threshold is flagged after
``train`` and in ``evaluate``, with a threshold that would work."""

from __future__ import annotations

import numpy as np
import pytest
from _tiny_data import tiny_files

from fingerspell.cli import main
from fingerspell.training.threshold import check_threshold, live_threshold, threshold_note


@pytest.fixture(scope="module")
def tiny(data, tmp_path_factory):
    return tiny_files(data, tmp_path_factory.mktemp("tiny"))


def test_confident_model_gets_no_note():
    probs = np.full((4, 3), 0.025)
    probs[np.arange(4), [0, 1, 2, 0]] = 0.95
    assert threshold_note(probs, np.array([0, 1, 2, 0])) is None


def test_default_is_the_live_apps_threshold():
    from fingerspell.runtime.smoothing import SmoothingOptions

    assert check_threshold(np.eye(3), np.arange(3)).threshold == live_threshold() == SmoothingOptions().threshold


def test_unsure_model_gets_a_threshold_most_right_answers_reach():
    rng = np.random.default_rng(0)
    probs = rng.uniform(0.0, 0.1, (100, 5))
    probs[:, 0] = rng.uniform(0.3, 0.6, 100)   # right, but never at 0.7
    check = check_threshold(probs, np.zeros(100, int), threshold=0.7)
    assert check.threshold == 0.7
    assert check.warn and check.below_share == 1.0
    assert np.mean(probs[:, 0] >= check.suggested) >= 0.9
    assert f"--threshold {check.suggested:.2f}" in check.message()


def test_train_and_evaluate_warn_for_a_model_trained_two_epochs(tiny, tmp_path, capsys):
    train_file, test_file, _ = tiny
    run = tmp_path / "run"
    rc = main(["train", "--data", str(train_file), "--val-data", str(test_file), "--model", "landmark_mlp",
               "--out", str(run), "--epochs", "2", "--lr", "3e-4", "--no-progress", "--no-plot", "--threads", "1"])
    assert rc == 0
    err = capsys.readouterr().err
    note = f"of the correct validation predictions have a confidence under the live threshold {live_threshold():.2f}"
    assert note in err
    assert "--threshold 0." in err
    rc = main(["evaluate", "--checkpoint", str(run / "best"), "--data", str(test_file), "--no-plot"])
    assert rc == 0
    out = capsys.readouterr().out
    assert f"under the live threshold {live_threshold():.2f}" in out and "Run it with --threshold" in out
