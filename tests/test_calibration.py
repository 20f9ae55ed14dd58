"""Personal calibration on real photos: a profile raises an unseen signer's accuracy, round-trips,
and is refused for another model; capture from a real video and through the live recorder."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from _tiny_model import LETTERS_MON95, VIDEO_USER, letterbox, mon95, tiny_mlp, workdir, write_video

from fingerspell.cli import main as cli
from fingerspell.errors import FingerspellError
from fingerspell.reading import calibration as cal
from fingerspell.reading import calibration_capture as cap
from fingerspell.reading import profiles
from fingerspell.runtime.classifier import load_classifier

CALIB_PHOTOS = (0, 5)        # photos 0-4 and 5-9 of a mon95 letter stand in two places
TEST_PHOTOS = (2, 3, 7, 8)
SIGNER = 4                   # the mon95 user the fold models read worst (benchmarks/calibration.py)


def class_folder(data: Path, root: Path, photos, users=(VIDEO_USER,)) -> Path:
    """``root/<Letter>/u<N>_<Letter><k>.jpg`` symlinks to real mon95 photos of ``users``."""
    for letter in LETTERS_MON95:
        (root / letter).mkdir(parents=True, exist_ok=True)
        for user in users:
            for k in photos:
                link = root / letter / f"u{user}_{letter}{k}.jpg"
                if not link.exists():
                    link.symlink_to(data / "mon95" / f"user_{user}" / f"{letter}{k}.jpg")
    return root


@functools.cache
def fold_base(data: Path) -> Path:
    """A small landmark MLP trained on mon95 users 3, 5, 6 and 7 (3 photos a letter), never on user 4."""
    import torch

    from fingerspell.labels import CLASSES
    from fingerspell.models.checkpoint import save_checkpoint
    from fingerspell.models.registry import build_model

    clf, _ = load_classifier(tiny_mlp(data))  # only for its classes and input kind
    x, y = cap.samples_from_folder(class_folder(data, workdir() / "calib_train", (0, 4, 8), (3, 5, 6, 7)),
                                   clf, LETTERS_MON95)
    torch.manual_seed(0)
    model = build_model("landmark_mlp", len(CLASSES), hidden=(128,), dropout=0.2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(400):
        loss = torch.nn.functional.cross_entropy(model(xt + 0.03 * torch.randn_like(xt)), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    path = workdir() / "calib_base"
    save_checkpoint(model.eval(), {"classes": list(CLASSES), "training": {"data": "mon95 users 3,5,6,7"},
                                   "metrics": {}}, path)
    return path


@pytest.fixture()
def store(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FINGERSPELL_PROFILES", str(tmp_path / "profiles"))
    return tmp_path / "profiles"


def accuracy(clf, x, y) -> float:
    return float((clf.predict_proba(x).argmax(1) == y).mean())


def test_calibration_from_a_photo_folder_raises_an_unseen_signers_accuracy(data, store, tmp_path):
    model = fold_base(data)  # never saw user 4
    me = class_folder(data, tmp_path / "me", CALIB_PHOTOS, (SIGNER,))
    assert cli(["calibrate", "--source", str(me), "--out", "me", "--model", str(model)]) == 0
    assert profiles.list_profiles() == ["me"]
    clf, _ = load_classifier(model)
    x, y = cap.samples_from_folder(class_folder(data, tmp_path / "test", TEST_PHOTOS, (SIGNER,)), clf,
                                   LETTERS_MON95)
    assert len(y) >= 0.9 * len(LETTERS_MON95) * len(TEST_PHOTOS)
    profiled, card = cal.load_profiled_classifier("me", model=model)
    before, after = accuracy(clf, x, y), accuracy(profiled, x, y)
    print(f"user {SIGNER}: {before:.3f} without calibration, {after:.3f} with")
    assert after >= before + 0.05 and after >= 0.95
    assert profiled.classes == clf.classes and card["architecture"] == "landmark_mlp"
    # Letters left out of a profile keep the base model's reading exactly.
    ab = cal.fit_profile(clf, x[y < 2], y[y < 2], cal.model_identity(model), method="proto")
    rest = y >= 2
    adapted = cal.ProfiledClassifier(clf, ab).predict_proba(x[rest])
    assert np.allclose(adapted[:, 2:], clf.predict_proba(x[rest])[:, 2:], atol=1e-6)


def test_a_profile_round_trips_and_is_never_overwritten_silently(data, tmp_path):
    model = tiny_mlp(data)
    clf, _ = load_classifier(model)
    x, y = cap.samples_from_folder(class_folder(data, tmp_path / "me", (1,)), clf, ("A", "B", "R", "U"))
    for method in cal.METHODS:
        prof = cal.fit_profile(clf, x, y, cal.model_identity(model), method=method, source="test")
        path = cal.save_profile(prof, tmp_path / f"{method}.profile")
        back = cal.load_profile(path)
        assert back.card == prof.card and back.card["method_requested"] == method
        assert back.method == (method if method != "auto" else "net")
        assert back.card["params"].get("blend") == (0.5 if method == "auto" else None)  # base kept in
        assert back.letters == ("A", "B", "R", "U") and set(back.card["samples_per_letter"].values()) == {1}
        assert np.array_equal(back.inputs, prof.inputs) and np.array_equal(back.labels, prof.labels)
        assert np.allclose(cal.ProfiledClassifier(clf, back).predict_proba(x),
                           cal.ProfiledClassifier(clf, prof).predict_proba(x))
        with pytest.raises(FingerspellError, match="already exists"):
            cal.save_profile(prof, path)
    # auto keeps the base model's view however many samples a letter has
    three = np.concatenate([x, x + 0.01, x - 0.01]), np.concatenate([y, y, y])
    assert cal.fit_profile(clf, *three, cal.model_identity(model)).card["params"]["blend"] == 0.5
    assert cal.resolve_method("auto") == ("net", {"blend": 0.5})
    assert cal.resolve_method("net") == ("net", {})
    from safetensors import safe_open

    with safe_open(str(tmp_path / "head.profile"), framework="numpy") as fh:
        card = json.loads(fh.metadata()["card"])
        assert set(fh.keys()) == {"inputs", "labels", "head.weight", "head.bias"}
    assert card["base_model"]["sha256"] == cal.model_identity(model)["sha256"]
    with pytest.raises(FingerspellError, match="not a readable calibration profile"):
        (tmp_path / "bad.profile").write_bytes(b"not a profile")
        cal.load_profile(tmp_path / "bad.profile")


def test_a_profile_for_another_model_is_refused(data, store, tmp_path, capsys):
    src = str(class_folder(data, tmp_path / "me", (1,)))
    assert cli(["calibrate", "--source", src, "--out", "me", "--model", str(tiny_mlp(data)),
                "--letters", "A,B"]) == 0
    with pytest.raises(FingerspellError, match="was made for model tiny_mlp"):
        cal.load_profiled_classifier("me", model="landmark_mlp")
    # Redoing letters into it against the shipped model is refused too, and the file is kept.
    before = (store / "me.profile").read_bytes()
    assert cli(["calibrate", "--source", src, "--out", "me", "--letters", "R", "--update"]) == 2
    assert cli(["calibrate", "--source", src, "--out", "me", "--letters", "R"]) == 2
    assert (store / "me.profile").read_bytes() == before
    assert cli(["calibrate", "--source", src, "--out", "me", "--model", str(tiny_mlp(data)),
                "--letters", "R", "--update"]) == 0
    assert cal.load_profile(store / "me.profile").letters == ("A", "B", "R")
    photo = next(Path(src).glob("*/*.*"))  # one photo is no calibration source: said so, in one line
    assert cli(["calibrate", "--source", str(photo), "--out", "me2"]) == 2
    assert "is one image: give a folder of class folders" in capsys.readouterr().err
    assert cli(["calibrate", "--remove", "me"]) == 0 and profiles.list_profiles() == []
    with pytest.raises(FingerspellError, match="not found"):
        cal.load_profiled_classifier("me")


def test_a_profile_is_fitted_again_for_new_weights_from_its_samples(data, store, tmp_path, capsys):
    src = str(class_folder(data, tmp_path / "me", (1, 6), (SIGNER,)))
    old_model, new_model = tiny_mlp(data), fold_base(data)  # two landmark models: an upgrade
    assert cli(["calibrate", "--source", src, "--out", "me", "--model", str(old_model), "--letters", "A,B,R,U"]) == 0
    old = cal.load_profile(store / "me.profile")
    assert old.card["base_model"]["input"]["kind"] == "vector"
    with pytest.raises(FingerspellError, match="calibrate --refit"):
        cal.load_profiled_classifier("me", model=new_model)
    capsys.readouterr()
    assert cli(["calibrate", "--list"]) == 0  # made for other weights than the shipped ones: said so
    assert "(other weights: fingerspell calibrate --refit me)" in capsys.readouterr().out
    assert cli(["calibrate", "--list", "--model", str(old_model)]) == 0
    assert "other weights" not in capsys.readouterr().out
    assert cli(["calibrate", "--refit", "me", "--model", str(new_model)]) == 0
    assert "fitted again" in capsys.readouterr().err
    new = cal.load_profile(store / "me.profile")
    sha = new.card["base_model"]["sha256"]
    assert sha == cal.model_identity(new_model)["sha256"] != old.card["base_model"]["sha256"]
    assert new.card["refit_from"]["sha256"] == old.card["base_model"]["sha256"]
    assert np.array_equal(new.inputs, old.inputs) and new.letters == old.letters
    assert new.card["method_requested"] == old.card["method_requested"] == "auto"
    profiled, _ = cal.load_profiled_classifier("me", model=new_model)  # accepted now, and adapted
    clf, _ = load_classifier(new_model)
    x, y = new.inputs, new.labels
    assert accuracy(profiled, x, y) == 1.0 and not np.allclose(profiled.predict_proba(x), clf.predict_proba(x))
    # A profile of an older format (no input recorded) is checked by the shape of its samples.
    del old.card["base_model"]["input"]
    cal.save_profile(old, tmp_path / "old.profile")
    before = (store / "me.profile").read_bytes()
    assert cli(["calibrate", "--refit", str(tmp_path / "old.profile"), "--model", str(new_model),
                "--out", "me"]) == 2  # me exists: not replaced without --overwrite
    assert "already exists" in capsys.readouterr().err
    assert (store / "me.profile").read_bytes() == before
    assert cli(["calibrate", "--refit", str(tmp_path / "old.profile"), "--model", str(new_model),
                "--out", "again"]) == 0 and profiles.list_profiles() == ["again", "me"]
    capsys.readouterr()
    # An image model reads other input: refused in one line, the profile left as it was.
    before = (store / "me.profile").read_bytes()
    assert cli(["calibrate", "--refit", "me", "--model", "mobilenetv2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "keeps its samples as vector input of shape (100,)" in err[0] and "record" in err[0]
    assert (store / "me.profile").read_bytes() == before
    # Recording options would be ignored (every stored sample is fitted again): refused by name.
    assert cli(["calibrate", "--refit", "me", "--letters", "R,U", "--per-letter", "2"]) == 2
    err = capsys.readouterr().err
    assert "takes no --letters, --per-letter" in err and (store / "me.profile").read_bytes() == before


def _spelled_video(data: Path, word: str, hold_s: float = 2.0, fps: int = 10) -> Path:
    frames = [letterbox(mon95(data, VIDEO_USER, c, i % 5)) for c in word for i in range(int(hold_s * fps))]
    return write_video(frames, workdir() / f"calib_{word.lower()}.mp4", fps=fps)


def test_capture_from_a_labelled_video_and_the_live_recorder(data, tmp_path):
    clf, _ = load_classifier("landmark_mlp")
    video = _spelled_video(data, "LAY")
    labels = tmp_path / "lay.csv"
    labels.write_text("start_s,end_s,letter\n0.3,1.7,L\n2.3,3.7,a\n# Y is left out\n")
    x, y = cap.samples_from_video(video, labels, clf, cap.parse_letters(None, clf.classes))
    assert sorted(set(clf.classes[i] for i in y)) == ["A", "L"] and len(y) >= 20
    assert accuracy(clf, x, y) >= 0.9
    labels.write_text("0.3,1.7,L\n2.3,oops,A\n")
    with pytest.raises(FingerspellError, match="line 2"):
        cap.read_label_file(labels)

    rec = cap.CalibrationRecorder(("L", "A", "Y"), countdown_s=0.8, capture_s=0.8, min_samples=4)
    from fingerspell.runtime.sources import open_source

    with open_source(str(video)) as src:
        rx, ry = cap.record(src, clf, rec)
    assert rec.done and sorted(rec.samples) == ["A", "L", "Y"]
    assert all(len(v) >= 4 for v in rec.samples.values())
    assert accuracy(clf, rx, ry) >= 0.9
    rec.redo("A")
    assert rec.current == "A" and not rec.done
    st = rec.update(10.0, None)
    assert st.phase == "countdown" and st.letter == "A" and st.progress == pytest.approx(2 / 3)


def test_recording_in_the_window_from_a_video(xvfb, data, store, monkeypatch):
    monkeypatch.setenv("DISPLAY", xvfb)
    video = _spelled_video(data, "LAY")
    assert cli(["calibrate", "--source", str(video), "--record", "--window", "--letters", "L,A,Y",
                "--countdown", "0.8", "--capture", "0.8", "--out", "win"]) == 0
    prof = cal.load_profile(store / "win.profile")
    assert prof.letters == ("A", "L", "Y") and min(prof.card["samples_per_letter"].values()) >= 5
    clf, _ = load_classifier("landmark_mlp")
    assert accuracy(clf, prof.inputs, prof.labels) >= 0.9  # the frames captured show the letter asked for


def test_the_calibration_window_shows_how_each_letter_is_signed():
    from fingerspell.apps.web.chart import letter_picture

    a, b, nothing = letter_picture("A"), letter_picture("b"), letter_picture("NOTHING")
    assert a.shape == (160, 160, 3) and (a < 200).any(axis=2).sum() > 200  # a drawn hand
    assert (a != b).any(axis=2).sum() > 200  # another letter, another hand
    assert (nothing == 255).all()  # no letter: an empty frame


def test_motion_letters_are_not_calibrated_on_a_static_letter_model(data, store, tmp_path, capsys):
    # The shipped model trains J photos as I and Z as D, and the reader takes J and Z from the hand's
    # path: calibrating them from still samples would teach it a one-frame distinction it must not make.
    shipped, card = load_classifier("landmark_mlp")
    assert cap.static_letters_model(card)
    letters = cap.parse_letters(None, shipped.classes, card)
    assert "J" not in letters and "Z" not in letters and {"I", "D", "A", "Y"} <= set(letters)
    assert len(letters) == 24
    src = str(class_folder(data, tmp_path / "me", (1,)))
    assert cli(["calibrate", "--source", src, "--out", "me", "--letters", "A,J"]) == 2
    assert "J is read from the hand's motion" in capsys.readouterr().err
    assert not (store / "me.profile").exists()
    # A model whose J and Z are classes of their own (trained without static_letters) keeps them.
    tiny, tiny_card = load_classifier(tiny_mlp(data))
    assert not cap.static_letters_model(tiny_card)
    assert {"J", "Z"} <= set(cap.parse_letters(None, tiny.classes, tiny_card))
    assert cap.parse_letters("z,a", tiny.classes, tiny_card) == ("Z", "A")


def test_a_gated_profile_adapts_only_the_letters_its_samples_need(data, tmp_path):
    """``gate`` (measured in benchmarks/calibration.py, not the default): only the letters whose
    samples the base model misreads or reads under the gate, and what they are read as, are
    re-divided; a letter read right and sure keeps the base reading exactly."""
    model = fold_base(data)  # never saw user 4
    clf, _ = load_classifier(model)
    x, y = cap.samples_from_folder(class_folder(data, tmp_path / "me", CALIB_PHOTOS, (SIGNER,)), clf,
                                   LETTERS_MON95)
    base = clf.predict_proba(x)
    prof = cal.fit_profile(clf, x, y, cal.model_identity(model), gate=0.9)
    adapt = prof.card["params"]["adapt"]
    sure = {clf.classes[c] for c in np.unique(y)
            if (base[y == c].argmax(1) == c).all() and (base[y == c][:, c] >= 0.9).all()}
    misread = {clf.classes[c] for c in np.unique(y[base.argmax(1) != y])}
    assert misread and misread <= set(adapt) and not sure & (set(adapt) - {clf.classes[i] for i in base.argmax(1)})
    assert sure and len(adapt) < len(np.unique(y))  # some letters were left as the base model reads them
    back = cal.load_profile(cal.save_profile(prof, tmp_path / "gated.profile"))
    adapted = cal.ProfiledClassifier(clf, back).predict_proba(x)
    kept = [i for i, c in enumerate(clf.classes) if c not in adapt]
    assert np.allclose(adapted[:, kept], base[:, kept], atol=1e-6)
    assert accuracy(cal.ProfiledClassifier(clf, back), x, y) > float((base.argmax(1) == y).mean())


def test_photos_left_out_of_a_calibration_are_named(data, store, tmp_path, capsys):
    """An unreadable photo in the folder is named in a warning, not silently dropped; a folder of
    nothing readable is one clear error, not 'no hand found'."""
    src = class_folder(data, tmp_path / "me", (1,))
    (src / "B" / "broken.jpg").write_bytes(b"\xff\xd8 not a whole jpeg")
    assert cli(["calibrate", "--source", str(src), "--out", "me", "--model", str(tiny_mlp(data)),
                "--letters", "A,B"]) == 0
    err = capsys.readouterr().err
    assert "warning: left out 1 photo(s) unreadable (corrupt or not an image):" in err and "broken.jpg" in err
    junk = tmp_path / "junk"
    for letter in "AB":
        (junk / letter).mkdir(parents=True)
        (junk / letter / "x.jpg").write_text("a text file named like a photo")
    assert cli(["calibrate", "--source", str(junk), "--out", "me2", "--model", str(tiny_mlp(data))]) == 2
    line = capsys.readouterr().err.strip()
    assert "none of the 2 photos of" in line and "could be read" in line and "\n" not in line
    assert not (store / "me2.profile").exists()


def test_fitting_steps_as_torch_adam_without_importing_dynamo():
    """calibration_head.Adam takes torch.optim.Adam's steps; fitting a profile in a fresh interpreter
    never imports torch._dynamo (seconds of a calibration, and a stall in a live session's learning)."""
    import copy
    import subprocess
    import sys

    import torch

    from fingerspell.reading.calibration_head import Adam

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 5))
    a, b = copy.deepcopy(net), copy.deepcopy(net)
    x, y = torch.randn(64, 10), torch.randint(0, 5, (64,))
    steppers = ((a, torch.optim.Adam(a.parameters(), lr=1e-2)), (b, Adam(list(b.parameters()), lr=1e-2)))
    for _ in range(50):
        for model, opt in steppers:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    moved = max((pa - p0).abs().max().item() for pa, p0 in zip(a.parameters(), net.parameters()))
    gap = max((pa - pb).abs().max().item() for pa, pb in zip(a.parameters(), b.parameters()))
    assert moved > 0.1 and gap < 1e-5
    code = ("import sys, numpy as np, torch\n"
            "from fingerspell.reading.calibration_head import fit_net, fit_head\n"
            "net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))\n"
            "x = np.random.rand(12, 6).astype(np.float32); y = np.arange(12) % 3\n"
            "fit_net(net, x, y, np.zeros((12, 4), np.float32), steps=3)\n"
            "z = np.zeros\n"
            "fit_head(x, y, z((12, 4), np.float32), z((4, 6), np.float32), z(4, np.float32), steps=3)\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
