"""build-dataset on real photos: layouts, labels, groups, the file format, the cache, Ctrl-C, the CLI."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from fingerspell import features
from fingerspell.cli import main
from fingerspell.data.build import (
    BuildOptions,
    build_arrays,
    build_dataset,
    cache_key,
    report_path,
    rerender_masks,
)
from fingerspell.data.schema import DatasetArrays, load_dataset, save_dataset
from fingerspell.data.sources import detect_layout, scan_source
from fingerspell.errors import FingerspellError
from fingerspell.fileio import file_mode
from fingerspell.hands.detector import HandDetector, load_image
from fingerspell.hands.landmarks import FEATURE_DIM, Hand, landmark_box
from fingerspell.labels import CLASSES, canonical_class, name_of

FIELDS = ("masks", "landmarks", "vectors", "handedness", "image_sizes", "labels", "groups", "sources", "paths",
          "no_hand")
SLICE_CLASSES = ("A", "B", "DEL", "NOTHING")
BOX_M0 = (143, 33, 233, 123)  # mon95/user_3/user_3_loc.csv: user_3\M0.jpg


def _assert_equal(a: DatasetArrays, b: DatasetArrays) -> None:
    assert tuple(a.classes) == tuple(b.classes)
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.shape == y.shape and x.dtype.kind == y.dtype.kind, f
        assert np.array_equal(x, y), f


def _label_from_path(path: str) -> str:
    p = Path(path)
    if p.parent.name.startswith("user_"):
        return canonical_class(p.stem.rstrip("0123456789"))
    return canonical_class(p.parent.name)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def built(data, cache, tmp_path_factory):
    """A slice of all three shared sources, built once through the process pool (cold cache)."""
    out = tmp_path_factory.mktemp("slice") / "slice.npz"
    opts = BuildOptions(classes=SLICE_CLASSES, limit_per_class=3, cache_dir=str(cache), workers=2, progress=False)
    report = build_dataset([data / "asl-alphabets" / "train", data / "massey", data / "mon95"], out, opts)
    return out, report, opts


def test_slice_of_each_source_has_the_right_labels_and_groups(built, data):
    out, report, _ = built
    ds = load_dataset(out)
    assert set(ds.groups.tolist()) == {"asl-alphabets/train", *(f"massey/hand{i}" for i in range(1, 6)),
                                       *(f"mon95/user_{i}" for i in range(3, 8))}
    assert set(ds.sources.tolist()) == {"asl-alphabets/train", "massey", "mon95"}
    for path, label in zip(ds.paths, ds.labels):
        assert _label_from_path(path) == name_of(label), path
    for path, group in zip(ds.paths, ds.groups):
        if "/massey/" in path:
            assert group == "massey/" + Path(path).name.split("_")[0]
        elif "/mon95/" in path:
            assert group == "mon95/" + Path(path).parent.name
    # limit 3 per class per group, only the asked classes
    labels = [name_of(i) for i in ds.labels]
    assert set(labels) <= set(SLICE_CLASSES)
    pairs = Counter(zip(ds.groups.tolist(), labels))
    assert max(pairs.values()) == 3, pairs
    assert sum((ds.groups == "massey/hand1") & (ds.labels == CLASSES.index("A"))) == 3
    assert sum((ds.groups == "mon95/user_5") & (ds.labels == CLASSES.index("B"))) == 3
    # the report: digits skipped and counted, the photo without a hand listed and left out
    assert report.skipped_files == 700
    assert {s["reason"] for s in report.skipped} == {"digit"} and len(report.skipped) == 10
    d100 = str(data / "asl-alphabets" / "train" / "Del" / "D100.jpg")
    assert d100 in report.no_hand_files and d100 not in ds.paths.tolist()
    by_source = {s.source: s for s in report.sources}
    assert by_source["massey"].files == 30 and by_source["mon95"].files == 30
    assert by_source["mon95"].found_rate == 1.0 and by_source["mon95"].inside_box == 30
    assert by_source["massey"].skipped_files == 700
    assert report.cache_misses == len(ds) + len(report.no_hand_files) and report.cache_hits == 0
    saved = json.loads(report_path(out).read_text())
    assert saved["samples"] == len(ds) and saved["skipped_files"] == 700
    assert saved["no_hand_files"] == report.no_hand_files
    assert saved["sources"][2]["found_rate"] == 1.0
    assert "massey" in report.format() and "D100.jpg" in report.format()


def test_samples_hold_masks_landmarks_and_vectors_of_the_detected_hand(built, data):
    out, _, opts = built
    ds = load_dataset(out)
    assert ds.masks.shape[1:] == (96, 96, 3) and ds.masks.dtype == np.uint8
    nothing = CLASSES.index("NOTHING")
    # NOTHING photos without a hand are kept, black and zero; nothing else is ever no_hand
    assert ds.no_hand.any() and np.all(ds.labels[ds.no_hand] == nothing)
    assert not ds.masks[ds.no_hand].any() and not ds.vectors[ds.no_hand].any()
    assert not ds.landmarks[ds.no_hand].any() and np.all(ds.handedness[ds.no_hand] == -1)
    hand = ~ds.no_hand
    assert np.all(np.isin(ds.handedness[hand], [0, 1]))
    assert all(m.any() for m in ds.masks[hand]) and np.all(np.isfinite(ds.vectors))
    assert np.all(ds.image_sizes[ds.sources == "mon95"] == [320, 240])
    # the stored numbers are exactly what the detector and fingerspell.features give
    with HandDetector(opts.detector_options()) as det:
        for i in np.flatnonzero(hand)[::9]:
            img = load_image(ds.paths[i])
            found = det.detect(img)[0]
            assert np.array_equal(found.landmarks, ds.landmarks[i])
            assert np.array_equal(features.hand_vector(found), ds.vectors[i])
            assert np.array_equal(features.hand_mask(found, size=96), ds.masks[i])
            assert ds.handedness[i] == (0 if found.handedness == "Left" else 1)
    w, h = ds.image_sizes[0]
    lm = ds.landmarks[np.flatnonzero(hand)[0]]
    rebuilt = Hand(landmarks=lm, handedness="Right", score=1.0, box=landmark_box(lm, (w, h)), image_size=(w, h))
    assert rebuilt.pixel_landmarks().shape == (21, 2)
    assert ds.vectors.shape[1] == FEATURE_DIM


def test_file_round_trips_and_masks_rerender(built, tmp_path, data, cache):
    out, _, opts = built
    ds = load_dataset(out)
    copy = save_dataset(ds, tmp_path / "copy.npz")
    _assert_equal(ds, load_dataset(copy))
    for f in (out, copy, report_path(out)):  # ordinary files, not mkstemp's 0600
        assert stat.S_IMODE(f.stat().st_mode) == file_mode()
    small = rerender_masks(ds, 64)
    assert small.masks.shape == (len(ds), 64, 64, 3) and not small.masks[ds.no_hand].any()
    assert np.array_equal(small.vectors, ds.vectors)
    # the cache holds detections, not masks: a build at another mask size is all hits and
    # gives exactly the re-drawn masks
    from dataclasses import replace

    direct, rep = build_arrays([data / "asl-alphabets" / "train", data / "massey", data / "mon95"],
                               replace(opts, mask_size=64))
    assert rep.cache_misses == 0
    _assert_equal(small, direct)


def test_bad_files_give_clear_errors(built, tmp_path, capsys):
    out, _, _ = built
    raw = out.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[: len(raw) // 2])
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"this is not a zip file at all" * 50)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, pictures=np.zeros((2, 4, 4, 3), np.uint8), targets=np.zeros(2))
    badlabel = tmp_path / "badlabel.npz"
    with np.load(out) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["labels"] = arrays["labels"] + 100
    np.savez(badlabel, **arrays)
    seed = tmp_path / "seed.npz"
    np.savez(seed, images=np.zeros((3, 32, 32), np.float32), labels=np.array([0, 1, 28]))
    seed_ds = load_dataset(seed)  # the seed's format still loads
    assert seed_ds.masks.shape == (3, 32, 32, 3) and seed_ds.labels.tolist() == [0, 1, 28]
    with pytest.raises(FingerspellError, match="no landmarks"):
        rerender_masks(seed_ds, 64)
    cases = [(truncated, "truncated or corrupt"), (corrupt, "truncated or corrupt"),
             (wrong, "not a fingerspell dataset"), (badlabel, "labels run outside"),
             (tmp_path / "missing.npz", "does not exist")]
    for path, words in cases:
        with pytest.raises(FingerspellError, match=words):
            load_dataset(path)
        capsys.readouterr()
        rc = main(["build-dataset", "--rerender", str(path), "--out", str(tmp_path / "x.npz"), "--quiet"])
        err = capsys.readouterr().err.strip()
        assert rc != 0 and "\n" not in err and words in err and "Traceback" not in err
        assert not (tmp_path / "x.npz").exists()


def test_refuses_to_overwrite_without_the_flag(built, data, cache, capsys):
    out, _, opts = built
    before = out.stat().st_mtime_ns
    with pytest.raises(FingerspellError, match="already exists.*--overwrite"):
        build_dataset([data / "mon95"], out, opts)
    rc = main(["build-dataset", str(data / "mon95"), "--out", str(out), "--cache-dir", str(cache), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "already exists" in err and "\n" not in err
    assert out.stat().st_mtime_ns == before
    from dataclasses import replace

    report = build_dataset([data / "mon95"], out, replace(opts, overwrite=True, classes=("A",), limit_per_class=1))
    assert report.cache_hits == 5 and report.cache_misses == 0  # mon95 A0 of each user came from the cache
    assert len(load_dataset(out)) == 5


def test_kaggle_style_class_folders_through_the_cli(data, tmp_path, cache, capsys):
    root = tmp_path / "asl_alphabet_train"
    asl = data / "asl-alphabets"
    picks = {"A": [asl / "train/A/A0.jpg", asl / "train/A/A10.jpg"],
             "del": [asl / "train/Del/D0.jpg", asl / "train/Del/D100.jpg"],
             "nothing": [asl / "train/Nothing/N0.jpg", asl / "test/Nothing/Nothing0.jpg"],
             "0": [data / "massey/0/hand1_0_bot_seg_1_cropped.jpeg", data / "massey/0/hand1_0_bot_seg_2_cropped.jpeg"]}
    for folder, files in picks.items():
        (root / folder).mkdir(parents=True)
        for f in files:
            (root / folder / f.name).symlink_to(f)
    (root / "A" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "kaggle.npz"
    rc = main(["build-dataset", str(root), "--out", str(out), "--cache-dir", str(cache), "--workers", "1"])
    printed = capsys.readouterr().out
    assert rc == 0 and out.exists()
    ds = load_dataset(out)
    names = [name_of(i) for i in ds.labels]
    assert sorted(set(names)) == ["A", "DEL", "NOTHING"]
    assert names.count("A") == 2 and names.count("NOTHING") == 2
    assert set(ds.groups.tolist()) == {f"{tmp_path.name}/asl_alphabet_train"}
    assert set(ds.sources.tolist()) == {f"{tmp_path.name}/asl_alphabet_train"}
    report = json.loads(report_path(out).read_text())
    assert report["skipped"] == [{"path": str(root / "0"), "files": 2, "reason": "digit"}]
    assert report["no_hand_files"] == [str(root / "del" / "D100.jpg")]
    assert report["nothing_without_hand_files"] == [str(root / "nothing" / "N0.jpg")]
    assert [u["path"] for u in report["unreadable_files"]] == [str(root / "A" / "broken.jpg")]
    nothing = np.flatnonzero(ds.labels == CLASSES.index("NOTHING"))
    assert ds.no_hand[nothing].tolist() == [True, False]  # N0 has no hand; Nothing0 shows a relaxed hand
    assert "skipped (not in the vocabulary): 2 files" in printed and "D100.jpg" in printed


def test_layout_detection(data, tmp_path):
    assert detect_layout(data / "massey")[0] == "massey"
    assert detect_layout(data / "mon95")[0] == "mon95"
    assert detect_layout(data / "asl-alphabets" / "test")[0] == "class-folders"
    one = scan_source(data / "mon95" / "user_3", classes=["m"])
    assert one.layout == "mon95" and one.source == "mon95"
    assert {it.group for it in one.items} == {"mon95/user_3"} and len(one.items) == 10
    assert one.items[0].path.endswith("M0.jpg") and one.items[0].box == BOX_M0
    assert all(it.box is not None for it in one.items)
    with pytest.raises(FingerspellError, match="no class folders found.*test, train"):
        detect_layout(data / "asl-alphabets")
    # a Kaggle zip nests the class folders one level down
    inner = tmp_path / "asl_alphabet_train" / "asl_alphabet_train" / "B"
    inner.mkdir(parents=True)
    (inner / "B1.jpg").symlink_to(data / "asl-alphabets/train/B/B0.jpg")
    layout, folder = detect_layout(tmp_path / "asl_alphabet_train")
    assert layout == "class-folders" and folder == inner.parent
    with pytest.raises(FingerspellError, match="unknown class 'digit7'"):
        scan_source(data / "massey", classes=["digit7"])


def test_crashed_build_resumes_from_its_cache(data, tmp_path):
    cache = tmp_path / "cache"
    out = tmp_path / "resume.npz"
    opts = BuildOptions(classes=("C", "D"), limit_per_class=2, cache_dir=str(cache), workers=1, progress=False)
    src = [data / "massey"]
    with pytest.raises(RuntimeError, match="simulated crash after 7"):
        from dataclasses import replace

        build_dataset(src, out, replace(opts, test_fail_after=7))
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    assert len(list(cache.rglob("*.json"))) == 7 and not list(cache.rglob("*.part"))
    report = build_dataset(src, out, opts)
    assert report.cache_hits == 7 and report.cache_misses == 20 - 7
    out.unlink()
    again = build_dataset(src, out, opts)
    assert again.cache_hits == 20 and again.cache_misses == 0


def test_ctrl_c_leaves_no_output_and_keeps_the_cache(data, tmp_path):
    cache = tmp_path / "cache"
    out = tmp_path / "interrupted.npz"
    cmd = [sys.executable, "-m", "fingerspell", "build-dataset", str(data / "mon95"), "--out", str(out),
           "--cache-dir", str(cache), "--limit-per-class", "3", "--workers", "2", "--quiet"]
    # as a foreground command gets it (a suite started as a shell's background job would pass on
    # an ignored Ctrl-C, and the build would rightly run to the end)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while len(list(cache.rglob("*.json"))) < 8:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the build never started writing its cache"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "fingerspell build-dataset: interrupted"
    assert not out.exists() and not list(tmp_path.glob("*.part")) and not list(cache.rglob("*.part"))
    cached = list(cache.rglob("*.json"))
    assert 8 <= len(cached) < 360
    # every cache entry is a whole record, and it is the one a rerun will look up
    items = scan_source(data / "mon95", limit_per_class=3).items
    settings = BuildOptions().cache_settings()
    keys = {cache_key(Path(it.path).read_bytes(), settings, it.box) for it in items}
    for f in cached:
        assert f.stem in keys
        rec = json.loads(f.read_text())
        assert rec["found"] is True and len(rec["landmarks"]) == 21


def test_bad_sources_give_one_line_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for src, words in ((tmp_path / "nowhere", "is not a folder"), (tmp_path / "empty", "no class folders found")):
        rc = main(["build-dataset", str(src), "--out", str(tmp_path / "o.npz"), "--quiet"])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and words in err and "\n" not in err
    rc = main(["build-dataset", str(tmp_path), "--out", str(tmp_path / "o.npz"), "--mask-size", "4"])
    assert rc == 2 and "--mask-size" in capsys.readouterr().err


def test_cache_survives_a_damaged_entry(data, tmp_path):
    cache = tmp_path / "cache"
    src = [data / "mon95" / "user_6"]
    opts = BuildOptions(classes=("Y",), limit_per_class=2, cache_dir=str(cache), workers=1, progress=False)
    first, _ = build_arrays(src, opts)
    entry = sorted(cache.rglob("*.json"))[0]
    entry.write_text('{"found": true, "landm')  # a half-written entry from some other crash
    second, rep = build_arrays(src, opts)
    assert rep.cache_hits == 1 and rep.cache_misses == 1
    _assert_equal(first, second)


def test_cli_defaults_match_the_library_and_help_stays_light():
    from fingerspell.commands import build_dataset as cmd
    from fingerspell.data import build

    assert cmd.DEFAULT_MASK_SIZE == build.DEFAULT_MASK_SIZE == BuildOptions().mask_size
    assert cmd.DEFAULT_CONFIDENCE == build.DEFAULT_CONFIDENCE == BuildOptions().min_detection_confidence
    assert cmd.DEFAULT_CACHE_DIR == str(build.DEFAULT_CACHE_DIR) == BuildOptions().cache_dir
    code = ("import sys, argparse, fingerspell.commands.build_dataset as c; "
            "c.add_arguments(argparse.ArgumentParser()); "
            "print('fingerspell.data.build' in sys.modules, 'cv2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
