"""Learning the person from the words they spell (runtime/word_learning.py): which words teach, an
unseen signer's real photos read better afterwards, and the recognizer learns from a real video."""

from __future__ import annotations

import argparse
import functools

import numpy as np
import pytest
from _tiny_model import word_frames
from test_adaptation import _signer
from test_calibration import CALIB_PHOTOS, TEST_PHOTOS, fold_base

from fingerspell.errors import FingerspellError
from fingerspell.hands.detector import HandDetector
from fingerspell.labels import CLASSES
from fingerspell.reading.sentence import Word
from fingerspell.runtime.classifier import load_classifier
from fingerspell.runtime.recognizer import Recognizer, RecognizerOptions
from fingerspell.runtime.word_learning import LearnOptions, WordLearning, learnable, picked_letters, trusted_letters

# Words of the English lexicon without T (mon95's T is another hand shape), J or Z.
WORDS = ("HELLO", "BOOK", "QUICK", "BROWN", "FOX", "SKY", "WAVE", "PRICE", "GLYPH", "MOVED", "BLACK", "SEVEN",
         "MIXED", "QUEEN", "DRUMS")


@functools.cache
def decoder():
    from fingerspell.reading.words import WordDecoder

    return WordDecoder()


def word(text: str, p: float = 0.95, source: str = "decoded", start: float = 0.0, spelled: str = "") -> Word:
    spans = tuple((start + i, start + i + 0.5) for i in range(len(text)))
    return Word(spelled or text, text, text, p, False, source, spans[0][0], spans[-1][1], (), spans)


def test_only_words_the_lexicon_vouches_for_teach():
    lex = decoder().lexicon
    assert [c for c, _, _ in trusted_letters(word("GREAT"), lex, 0.9)] == list("GREAT")
    assert [(s, e) for _, s, e in trusted_letters(word("GREAT", spelled="TREAT"), lex, 0.9)][0] == (0.0, 0.5)
    assert trusted_letters(word("GREAT", p=0.6), lex, 0.9) == []  # the decoder is not sure enough
    assert trusted_letters(word("QXJV"), lex, 0.9) == []  # a code or a name: never learned from
    # a suggestion the person picked is their word, however unsure the decoder was
    assert [c for c, _, _ in trusted_letters(word("GREAT", p=0.3, source="suggestion", spelled="TREAT"), lex, 0.9)] \
        == list("GREAT")
    assert trusted_letters(word("GREAT", source="suggestion"), lex, 0.9, picks=False) == []
    assert trusted_letters(word("GREAT", source="undone"), lex, 0.9) == []
    assert [c for c, _, _ in trusted_letters(word("JAZZ"), lex, 0.9)] == ["A"]  # J and Z are movements
    reopened = Word("GREAT", "GREAT", "GREAT", 0.95, False, "decoded", 0, 5, (), ((0.0, 5.0),) * 5)
    assert trusted_letters(reopened, lex, 0.9) == []  # letters carrying the word's span, not their own
    assert trusted_letters(word("GREAT"), None, 0.9) == []
    with pytest.raises(FingerspellError, match="min_probability"):
        LearnOptions(min_probability=0.0)


def test_a_picked_word_labels_the_holds_it_lines_up_with():
    spans = [(float(i), i + 0.5) for i in range(6)]
    # C read surely as O: the pick (a completion) labels the first hold C
    assert picked_letters("OOFFE", "COFFEE", spans[:5]) == [
        ("C", 0.0, 0.5), ("O", 1.0, 1.5), ("F", 2.0, 2.5), ("F", 3.0, 3.5), ("E", 4.0, 4.5)]
    # a double letter read as one hold: the holds keep their own letters, none is shifted
    assert [c for c, _, _ in picked_letters("COFEE", "COFFEE", spans[:5])] == list("COFEE")
    # an extra hold (a transition read as X) is labelled nothing
    assert [(c, s) for c, s, _ in picked_letters("HELXLO", "HELLO", spans)] == [
        ("H", 0.0), ("E", 1.0), ("L", 2.0), ("L", 4.0), ("O", 5.0)]
    assert picked_letters("XYQV", "COFFEE", spans[:4]) == []  # which hold is which letter would be a guess
    assert picked_letters("JOY", "JOY", spans[:3]) == [("O", 1.0, 1.5), ("Y", 2.0, 2.5)]  # J is a movement


def _spell(learning: WordLearning, x: np.ndarray, y: np.ndarray, rng) -> None:
    """Each word a few frames per letter from the signer's photos, one second a letter."""
    t = 0.0
    for text in WORDS:
        spans = []
        for c in text:
            rows = x[y == CLASSES.index(c)]
            for k in range(4 if len(rows) else 0):
                learning.add_frame(t + 0.1 * k, rows[rng.integers(len(rows))])
            spans.append((t, t + 0.3))
            t += 1.0
        w = Word(text, text, text, 0.95, False, "decoded", spans[0][0], spans[-1][1], (), tuple(spans))
        learning.on_word(w, [w])


def test_learning_from_spelled_words_reads_an_unseen_signer_better(data, tmp_path):
    clf, _ = load_classifier(fold_base(data))  # never saw user 4
    x, y = _signer(data, tmp_path, CALIB_PHOTOS, clf)  # what they spelled the words with
    xt, yt = _signer(data, tmp_path, TEST_PHOTOS, clf)  # their other photos
    learning = WordLearning(clf, decoder(), LearnOptions(background=False))
    assert learning.unavailable is None and not learning.active
    assert np.array_equal(learning.predict_proba(xt), clf.predict_proba(xt))
    before = float((clf.predict_proba(xt).argmax(1) == yt).mean())
    _spell(learning, x, y, np.random.default_rng(0))
    after = float((learning.predict_proba(xt).argmax(1) == yt).mean())
    print(f"user 4: {before:.3f} before, {after:.3f} after {learning.words} words ({len(learning.letters())} letters)")
    assert learning.active and learning.words == len(WORDS)
    learned = set("".join(WORDS)) - set("JZ")
    assert set(learning.letters()) == learned
    assert after >= before + 0.04
    # What is read is half the learned profile, half the base model (LearnOptions.mix).
    assert np.allclose(learning.predict_proba(xt), 0.5 * learning._learned.predict_proba(xt)
                       + 0.5 * clf.predict_proba(xt), atol=1e-5)
    # Letters never spelled keep the base reading exactly.
    others = [CLASSES.index(c) for c in CLASSES if c not in learned]
    assert np.allclose(learning.predict_proba(xt)[:, others], clf.predict_proba(xt)[:, others], atol=1e-5)
    # An undone correction is forgotten with the next word; reset forgets the person.
    undone = Word("HELLO", "HELLO", "HELLO", 0.95, False, "undone", 0.0, 4.3, ())  # as _spell spelled it
    learning.on_word(word("QXJV", start=200.0), [undone])
    assert learning.words == len(WORDS) - 1
    learning.reset()
    assert not learning.active and learning.words == 0
    assert np.array_equal(learning.predict_proba(xt), clf.predict_proba(xt))


def test_a_picked_suggestion_teaches_the_letter_the_model_reads_wrong(data, tmp_path):
    clf, _ = load_classifier(fold_base(data))  # never saw user 4
    x, y = _signer(data, tmp_path, CALIB_PHOTOS, clf)
    xt, yt = _signer(data, tmp_path, TEST_PHOTOS, clf)
    read = clf.predict_proba(x).argmax(1)
    wrong = {int(c): float(np.mean(read[y == c] != c)) for c in np.unique(y)}
    c = max(wrong, key=wrong.get)  # the letter of theirs the model misreads most
    assert wrong[c] >= 0.5, wrong
    m = int(np.bincount(read[(y == c) & (read != c)]).argmax())  # what it is read as (user 4's C: O)
    assert wrong.get(m, 1.0) <= 0.2  # and that letter of theirs is read right
    letters = [c, m] + [int(k) for k in np.unique(y) if wrong[int(k)] == 0 and k != m][:1]
    choice = "".join(CLASSES[k] for k in letters)
    # The person spells the word; the first hold is their photos of it the model reads wrong.
    rng, frames, spans = np.random.default_rng(0), [], []
    for i, k in enumerate(letters):
        rows = np.flatnonzero((y == k) & ((read != k) if i == 0 else True))
        frames += [(i + 0.1 * j, x[rows[rng.integers(len(rows))]]) for j in range(4)]
        spans.append((float(i), i + 0.3))
    spelled = CLASSES[m] + choice[1:]
    picked = Word(spelled, choice, choice, 0.3, False, "suggestion", 0.0, spans[-1][1], (), tuple(spans))
    mine = yt == c
    base = clf.predict_proba(xt[mine])
    for picks in (False, True):
        learning = WordLearning(clf, decoder(), LearnOptions(background=False, picks=picks))
        for t, row in frames:
            learning.add_frame(t, row)
        learning.on_word(picked, [picked])
        now = learning.predict_proba(xt[mine])
        print(f"{CLASSES[c]} read as {CLASSES[m]}: P({CLASSES[c]}) {base[:, c].mean():.2f} before, "
              f"{now[:, c].mean():.2f} after the pick; read surely wrong (0.99) {np.mean(base.max(1) >= 0.99):.2f} "
              f"-> {np.mean(now.max(1) >= 0.99):.2f} (learning from picks: {picks})")
        if picks:
            assert learning.words == 1 and CLASSES[c] in learning.letters()
            # Half the base reading stays (LearnOptions.mix), so a sure misreading becomes an unsure
            # one, which the word decoder may then correct (docs/adaptation.md).
            assert now[:, c].mean() >= base[:, c].mean() + 0.25
            assert np.mean(now.max(1) >= 0.99) <= 0.1
        else:
            assert learning.words == 0 and np.array_equal(now, base)


def test_the_recognizer_learns_from_the_words_it_reads_on_video(data):
    clf, card = load_classifier(fold_base(data))
    opts = RecognizerOptions(learn=True, learning=LearnOptions(background=False))
    with Recognizer(HandDetector(mode="video"), clf, card, opts, decoder=decoder()) as rec:
        t = 0.0
        for i, (frame, _) in enumerate(word_frames(data)):  # a real video of BOOK through MediaPipe
            t = i / 10
            rec.process(frame.copy(), t)
        rec.sentence.finish_word(t)
        assert rec.sentence.words[-1].word == "BOOK"
        status = rec.adaptation_status()
        assert status["kind"] == "words" and status["active"] and status["words"] == 1 and status["letters"] == 3
        r = rec.process(word_frames(data)[0][0].copy(), t + 0.1)
        assert r.to_dict()["adaptation"]["active"]
        rec.reset(person=False)  # a new sentence by the same person (the web page's Clear)
        assert rec.sentence.text == "" and rec.adaptation_status()["words"] == 1 and rec.adaptation_status()["active"]
        rec.reset()
        assert rec.adaptation_status()["words"] == 0 and not rec.adaptation_status()["active"]
    # Off, saying why, where it cannot work; one adaptation at a time.
    with Recognizer(HandDetector(mode="video"), clf, card, opts, decoder=None) as rec:
        assert "decoder" in rec.adaptation_status()["off"]
    assert "ONNX" in learnable(type("Onnx", (), {"backend": "onnx", "input_kind": "vector"})())
    detector = HandDetector(mode="video")
    try:
        with pytest.raises(FingerspellError, match="--adapt and --learn"):
            Recognizer(detector, clf, card, RecognizerOptions(adapt=True, learn=True))
    finally:
        detector.close()


def test_a_word_picked_in_the_recognizer_teaches_and_is_kept(data):
    clf, card = load_classifier(fold_base(data))
    opts = RecognizerOptions(learn=True, learning=LearnOptions(background=False))
    frames = word_frames(data)  # a real video of BOOK through MediaPipe
    with Recognizer(HandDetector(mode="video"), clf, card, opts, decoder=decoder()) as rec:
        t = 0.0
        for i, (frame, _) in enumerate(frames):
            t = i / 10
            rec.process(frame.copy(), t)
        s = rec.sentence
        words = [w for w, _ in s.suggestions]
        assert s.current == "BOOK" and "BOOK" in words, (s.current, words)
        picked = s.pick_suggestion(words.index("BOOK") + 1, t)  # keys 1-3
        assert picked.source == "suggestion" and len(picked.spans) == 4
        assert rec.adaptation_status()["words"] == 1 and rec.adaptation_status()["letters"] == 3
        # The next word, finished from its holds, keeps the picked one (a pick is no undone correction).
        start = t + 2.0
        for i, (frame, _) in enumerate(frames):
            t = start + i / 10
            rec.process(frame.copy(), t)
        s.finish_word(t)
        assert [w.word for w in s.words] == ["BOOK", "BOOK"]
        assert rec.adaptation_status()["words"] == 2


def test_a_fit_that_fails_stops_learning_with_a_reason_and_reading_goes_on(data, monkeypatch, capsys):
    from fingerspell.apps.live_widgets import adaptation_note
    from fingerspell.reading import calibration as cal

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(cal, "fit_profile", broken)
    clf, _ = load_classifier(fold_base(data))
    rows = np.random.default_rng(0).normal(size=(40, clf.card["input_size"])).astype(np.float32)
    learning = WordLearning(clf, decoder(), LearnOptions(background=True))  # as in live and serve
    for i, row in enumerate(rows):
        learning.add_frame(i * 0.1, row)
    assert learning.on_word(word("BOOK"), []) > 0
    learning.wait(30)
    status = learning.status()
    assert not status["active"] and "learning stopped" in status["off"] and "out of memory" in status["off"]
    assert np.array_equal(learning.predict_proba(rows), clf.predict_proba(rows))
    assert learning.on_word(word("HELLO", start=10.0), []) == 0  # stopped: no more fits
    assert adaptation_note(status) == status["off"]  # the live panel says so (and the web page, app.js)
    assert adaptation_note({"kind": "words", "active": False, "words": 0, "letters": 0, "off": "not ONNX"}) == ""

    # fingerspell run reads the whole video all the same, and warns once at the end
    import torch
    from _tiny_model import WORD, word_video

    from fingerspell.cli import main

    threads = torch.get_num_threads()
    try:
        assert main(["run", "--source", str(word_video(data)), "--no-progress"]) == 0
    finally:
        torch.set_num_threads(threads)  # the command sets torch's (process-wide) thread count
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == WORD
    assert "warning: learning stopped: the fit failed (RuntimeError: out of memory)" in err
    monkeypatch.undo()  # a new signer (Shift+R, a reload) gets a fresh try, and this fit works
    learning.reset()
    assert learning.status()["off"] is None
    for i, row in enumerate(rows):
        learning.add_frame(20.0 + i * 0.1, row)
    assert learning.on_word(word("BOOK", start=20.0), []) > 0
    learning.wait(30)
    assert learning.status()["active"] and learning.status()["off"] is None


def test_the_commands_turn_it_on_with_learn():
    from fingerspell.apps import add_recognizer_arguments, recognizer_options

    p = argparse.ArgumentParser()
    add_recognizer_arguments(p)
    run = recognizer_options(argparse.Namespace(**vars(p.parse_args(["--learn"])), command="run"))
    live = recognizer_options(argparse.Namespace(**vars(p.parse_args(["--learn"])), command="live"))
    assert run.learn and not run.learning.background  # a file: fitted before the next frame, runs repeat
    assert live.learn and live.learning.background
    on = recognizer_options(argparse.Namespace(**vars(p.parse_args([])), command="run"))
    assert on.learn  # on by default in the commands
    for args, command in ((["--no-learn"], "run"), ([], "bench"), (["--adapt"], "live")):
        opts = recognizer_options(argparse.Namespace(**vars(p.parse_args(args)), command=command))
        assert not opts.learn, (args, command)
    assert recognizer_options(argparse.Namespace(**vars(p.parse_args(["--adapt"])), command="live")).adapt
    assert not RecognizerOptions().learn  # the library: asked for with RecognizerOptions(learn=True)
