"""Adapting to the person signing without labels (runtime/adaptation.py), on real photos of a
signer the model never saw, and through the recognizer on a real video."""

from __future__ import annotations

import numpy as np
import pytest
from _tiny_model import LETTERS_MON95, word_frames
from test_calibration import CALIB_PHOTOS, SIGNER, TEST_PHOTOS, class_folder, fold_base

from fingerspell.errors import FingerspellError
from fingerspell.hands.detector import HandDetector
from fingerspell.reading import calibration_capture as cap
from fingerspell.runtime.adaptation import AdaptOptions, PersonAdaptation, adaptable
from fingerspell.runtime.classifier import load_classifier
from fingerspell.runtime.recognizer import Recognizer, RecognizerOptions


def _signer(data, tmp_path, photos, clf):
    return cap.samples_from_folder(class_folder(data, tmp_path / f"p{photos[0]}", photos, (SIGNER,)), clf,
                                   LETTERS_MON95)


def test_the_statistics_move_part_of_the_way_and_reset_restores_the_model(data, tmp_path):
    clf, _ = load_classifier(fold_base(data))
    x, _ = _signer(data, tmp_path, CALIB_PHOTOS, clf)
    first = clf.model.net[0]  # the input BatchNorm
    before = first.running_mean.numpy().copy()
    ad = PersonAdaptation(clf, AdaptOptions(share=0.25, min_holds=5, frames_per_hold=1))
    for row in x[:4]:
        assert not ad.add(row[None])
    assert not ad.active and np.array_equal(ad.predict_proba(x), clf.predict_proba(x))
    assert ad.add(x[4:5]) and ad.active
    moved = ad.model.net[0].running_mean.numpy()
    assert np.allclose(moved, 0.75 * before + 0.25 * x[:5].mean(axis=0), atol=1e-5)
    assert not np.allclose(moved, before, atol=1e-3)
    assert np.array_equal(first.running_mean.numpy(), before)  # the shared classifier is untouched
    assert not np.allclose(ad.predict_proba(x), clf.predict_proba(x), atol=1e-4)
    ad.reset()
    assert not ad.active and ad.holds == 0 and np.array_equal(ad.predict_proba(x), clf.predict_proba(x))
    with pytest.raises(FingerspellError, match="between 0 and 1"):
        AdaptOptions(share=1.5)


def test_adapting_to_an_unseen_signer_without_labels_reads_them_better(data, tmp_path):
    clf, _ = load_classifier(fold_base(data))  # never saw user 4
    x, _ = _signer(data, tmp_path, CALIB_PHOTOS, clf)  # what they signed: no label is used
    xt, yt = _signer(data, tmp_path, TEST_PHOTOS, clf)
    before = float((clf.predict_proba(xt).argmax(1) == yt).mean())
    # share 0.5 (the default 0.25 is chosen on the fold models of benchmarks/adaptation.py; with this
    # small model it gains one photo of the 96)
    ad = PersonAdaptation(clf, AdaptOptions(share=0.5, min_holds=20, frames_per_hold=1))
    for row in np.random.default_rng(0).permutation(x):
        ad.add(row[None])
    after = float((ad.predict_proba(xt).argmax(1) == yt).mean())
    print(f"user {SIGNER}: {before:.3f} before, {after:.3f} adapted to {ad.holds} unlabelled letters")
    assert after >= before + 0.02  # 89.6% -> 91.7% (2 of 96 photos) with this small model


def test_the_recognizer_adapts_from_the_letters_it_writes(data):
    clf, card = load_classifier(fold_base(data))
    opts = RecognizerOptions(adapt=True, adaptation=AdaptOptions(min_holds=3))
    written = []
    with Recognizer(HandDetector(mode="video"), clf, card, opts) as rec:
        for i, (frame, _) in enumerate(word_frames(data)):
            r = rec.process(frame.copy(), i / 10)
            if r.hold is not None:
                written.append(r.hold.letter)
        assert len(written) >= 3 and rec.adaptation.holds == len(written)
        assert rec.adaptation.active
        assert rec.adaptation_status()["letters"] == len(written)
        assert r.to_dict()["adaptation"]["active"]
        rec.reset()
        assert not rec.adaptation.active and rec.adaptation.holds == 0
    # Off unless asked for (--adapt), and off (saying why) where it cannot work.
    with Recognizer(HandDetector(mode="video"), clf, card) as rec:
        assert rec.adaptation is None and "--adapt" in rec.adaptation_status()["off"]
    assert "ONNX" in adaptable(type("Onnx", (), {"backend": "onnx", "input_kind": "vector"})())


def test_the_commands_turn_it_on_with_adapt():
    import argparse

    from fingerspell.apps import add_recognizer_arguments, recognizer_options

    p = argparse.ArgumentParser()
    add_recognizer_arguments(p)
    assert recognizer_options(p.parse_args(["--adapt"])).adapt
    assert not recognizer_options(p.parse_args([])).adapt
