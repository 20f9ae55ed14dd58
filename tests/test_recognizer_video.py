"""The recognizer end to end on videos made from real photos of a signer the model never saw.

The word video (see ``_tiny_model.word_frames``): mon95 user 7 spells BOOK, each letter held 2 s
at 10 fps (640x480, mp4v), with 0.4 s of hand-free black frames before the second O. The tiny
LandmarkMLP was trained on users 3-6 only.
"""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from _tiny_model import (
    SIZE,
    WORD,
    letterbox,
    mon95,
    tiny_cnn,
    tiny_mlp,
    word_frames,
    word_video,
    write_video,
)

from fingerspell.cli import main
from fingerspell.hands.detector import HandDetector
from fingerspell.hands.landmarks import Hand, one_per_hand
from fingerspell.runtime.classifier import load_classifier
from fingerspell.runtime.recognizer import Recognizer


@pytest.fixture(autouse=True)
def _keep_torch_threads(tmp_path, monkeypatch):
    """The commands set torch's (process-wide) thread count; give the next tests theirs back.
    And --backend onnx caches its export in a temp folder, not the user's ~/.cache."""
    import torch

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model(data):
    return tiny_mlp(data)


@pytest.fixture(scope="module")
def video(data):
    return word_video(data)


def test_run_recovers_the_word(model, video, data, tmp_path, artifacts, capsys):
    out, transcript = tmp_path / "annotated.mp4", tmp_path / "transcript.json"
    args = ["run", "--source", str(video), "--model", str(model), "--out", str(out),
            "--transcript", str(transcript), "--no-progress"]
    assert main(args) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == WORD
    doc = json.loads(transcript.read_text())
    assert doc["sentence"] == WORD == "BOOK"
    assert [h["letter"] for h in doc["holds"]] == list(WORD)
    assert all(len(h["top"]) == 3 and h["start"] <= h["end"] for h in doc["holds"])
    assert [w["word"] for w in doc["words"]] == [WORD]
    n_frames = len(word_frames(data))
    assert doc["frames_processed"] == len(doc["frames"]) == n_frames
    # The second O comes only after the hand-free gap, never from holding the first one longer.
    first_o, second_o = [h["start"] for h in doc["holds"] if h["letter"] == "O"]
    blank = [f["time"] for f in doc["frames"] if not f["hands"]]
    assert any(first_o < t < second_o for t in blank)
    with_hand = [f for f in doc["frames"] if f["hands"]]
    assert len(with_hand) >= n_frames - 10 and all(f["hands"][0]["box"] for f in with_hand)
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == n_frames
    ok, frame = cap.read()
    assert ok and frame.shape == (SIZE[1], SIZE[0], 3)
    cap.release()
    shutil.copy(out, artifacts / "run_book_annotated.mp4")
    shutil.copy(transcript, artifacts / "run_book_transcript.json")

    # Existing outputs are kept unless --overwrite; then the ONNX backend reads the same word.
    before = transcript.read_bytes()
    assert main(args) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert transcript.read_bytes() == before
    assert main(args + ["--overwrite", "--backend", "onnx"]) == 0
    assert json.loads(transcript.read_text())["sentence"] == WORD
    assert not list(tmp_path.glob(".*part*"))  # no temp files left behind


def test_truncated_video_keeps_what_was_recognised(model, data, tmp_path):
    frames = [f for f, _ in word_frames(data)]
    avi = tmp_path / "book.avi"
    w = cv2.VideoWriter(str(avi), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, SIZE)
    for f in frames:
        w.write(f)
    w.release()
    blob = avi.read_bytes()
    avi.write_bytes(blob[: int(len(blob) * 0.6)])
    transcript = tmp_path / "t.json"
    assert main(["run", "--source", str(avi), "--model", str(model), "--transcript", str(transcript),
                 "--no-progress"]) == 0
    doc = json.loads(transcript.read_text())
    assert doc["ended_early"] and doc["source"]["ended_early"]
    assert 20 < doc["frames_processed"] < len(frames)
    assert len(doc["sentence"]) >= 2 and WORD.startswith(doc["sentence"]) and doc["sentence"] != WORD


def test_mask_model_reads_each_hand_and_its_mirror_in_one_batch(data):
    classifier, card = load_classifier(tiny_cnn())
    frame = letterbox(mon95(data, 7, "B", 0))
    with Recognizer(HandDetector(mode="video"), classifier, card) as rec:
        hands = rec.detector.detect(frame, timestamp_ms=0)
        batch = rec.model_input(hands)
        assert len(hands) == 1 and batch.shape == (2, 3, 64, 64)
        assert np.array_equal(batch[1], batch[0][:, :, ::-1])  # the mirror image, same batch
        probs = classifier.predict_proba(batch)
        result = rec.process(frame, 0.1)
    (hand,) = result.hands
    best_row = int(np.argmax(probs.max(axis=1)))
    assert hand.mirrored == (best_row == 1)
    assert hand.confidence == pytest.approx(float(probs.max()), abs=1e-3)
    assert hand.label == card["classes"][int(probs[best_row].argmax())]
    assert set(result.timings) >= {"detection", "features", "model", "smoothing"}


def test_two_hands_get_separate_windows(model, data):
    """A frame with user 7's right hand signing B and a mirrored (left) hand signing K."""
    classifier, card = load_classifier(model)
    frame = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    frame[120:360, :320] = mon95(data, 7, "B", 0)
    frame[120:360, 320:] = mon95(data, 7, "K", 0)[:, ::-1]
    with Recognizer(HandDetector(mode="video", max_hands=2), classifier, card) as rec:
        results = [rec.process(frame, i / 10) for i in range(12)]
    last = results[-1]
    assert len(last.hands) == 2
    by_hand = {h.hand.handedness: h for h in last.hands}
    assert by_hand["Right"].stable == "B" and by_hand["Left"].stable == "K"
    assert by_hand["Right"].track_id != by_hand["Left"].track_id
    assert len({h.track_id for r in results for h in r.hands}) == 2  # the same two tracks all along
    assert last.sentence in ("B", "K") and last.writer in (by_hand["Right"].track_id, by_hand["Left"].track_id)


class _PartialTwin(HandDetector):
    """The real detector, whose MediaPipe on every other frame also finds a second, partial hand on
    the one in view (its landmarks drawn toward the hand's middle), as MediaPipe asked for two
    hands sometimes does."""

    def __init__(self, *options):  # (the second look makes one from the options)
        super().__init__(*options, **({} if options else {"mode": "video", "max_hands": 2}))
        self.calls = 0

    def _run(self, rgb):
        raw = super()._run(rgb)
        self.calls += 1
        if len(raw) == 1 and self.calls % 2:
            pts, wpts, label, score = raw[0]
            inner = pts.copy()
            inner[:, :2] = pts[:, :2].mean(axis=0) + 0.6 * (pts[:, :2] - pts[:, :2].mean(axis=0))
            raw = raw + [(inner, wpts, label, score)]
        return raw


def test_a_partial_second_box_on_the_one_hand_is_dropped(model, data):
    """One box per hand: a second box lying inside the hand's is never tracked or read. With both
    kept, the tracker follows one box, then the other, and this BOOK reads BBOOOK (on a real
    video of a new signer, KNOCK read KNCCKK)."""
    classifier, card = load_classifier(model)
    frames = [f for f, _ in word_frames(data)]
    twin = _PartialTwin()
    with Recognizer(twin, classifier, card) as rec:
        results = [rec.process(f, i / 10) for i, f in enumerate(frames)]
        rec.finish(len(frames) / 10)
        assert rec.sentence.text.strip() == WORD
    assert twin.calls == len(frames)
    assert max(len(r.hands) for r in results) == 1
    assert len({r.writer for r in results if r.writer is not None}) <= 2  # one track per hold of the hand
    boxes = [(Hand(np.zeros((21, 3), np.float32), "Right", 1.0, b, SIZE)) for b in
             [(100, 100, 200, 260), (120, 130, 190, 240), (300, 100, 400, 260), (180, 100, 320, 260)]]
    kept = one_per_hand(boxes)  # inside the first: dropped; beside it, or only partly over it: kept
    assert [h.box for h in kept] == [(100, 100, 200, 260), (300, 100, 400, 260), (180, 100, 320, 260)]
    # of two boxes on one hand, the one nearest the hand of the previous frame is kept, even the
    # smaller (a larger, worse box on a held Q took the writer's place and QUIZ read QQUIZ)
    real = Hand(np.full((21, 3), 0.3, np.float32), "Right", 1.0, (120, 130, 190, 240), SIZE)
    worse = Hand(np.full((21, 3), 0.34, np.float32), "Right", 1.0, (100, 100, 200, 260), SIZE)
    assert one_per_hand([worse, real], previous=[real]) == [real]
    assert one_per_hand([worse, real]) == [worse]


def test_collect_saves_hand_frames_and_never_overwrites(data, tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    blank = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    for i, img in enumerate([blank, letterbox(mon95(data, 4, "B", 0)), blank, letterbox(mon95(data, 4, "B", 1)),
                             letterbox(mon95(data, 4, "B", 2))]):
        cv2.imwrite(str(folder / f"{i:03d}.png"), img)
    out = tmp_path / "dataset"
    (out / "B").mkdir(parents=True)
    (out / "B" / "0007.jpg").write_bytes(b"keep me")
    args = ["collect", "--label", "b", "--count", "10", "--out", str(out), "--source", str(folder),
            "--interval", "0", "--no-progress"]
    assert main(args) == 0
    assert "saved 3 frames" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "B").iterdir()) == ["0007.jpg", "0008.jpg", "0009.jpg", "0010.jpg"]
    assert (out / "B" / "0007.jpg").read_bytes() == b"keep me"
    assert main(args[:4] + ["2"] + args[5:]) == 0
    assert sorted(p.name for p in (out / "B").iterdir())[-2:] == ["0011.jpg", "0012.jpg"]
    with HandDetector(mode="image") as det:
        assert det.detect(cv2.imread(str(out / "B" / "0012.jpg")))  # a saved frame shows the hand
    from fingerspell.data.sources import scan_source  # build-dataset reads what collect wrote

    scan = scan_source(out)
    assert scan.layout == "class-folders" and len(scan.items) == 6 and {it.label for it in scan.items} == {"B"}
    assert main(["collect", "--label", "ZZ", "--out", str(out), "--source", str(folder)]) == 2
    assert "unknown label" in capsys.readouterr().err
    dark = tmp_path / "dark"  # no hand in any frame: said so, and no empty folder is left behind
    dark.mkdir()
    for i in range(3):
        cv2.imwrite(str(dark / f"{i}.png"), blank)
    assert main(["collect", "--label", "c", "--out", str(tmp_path / "new"), "--source", str(dark),
                 "--no-progress"]) == 0
    got = capsys.readouterr()
    assert "saved 0 frames (3 frames read)" in got.out and "no hand was found in any of the 3 frames" in got.err
    assert not (tmp_path / "new").exists()


def test_bench_times_every_stage(model, data, tmp_path, capsys):
    frames = [f for f, _ in word_frames(data)][:30]
    short = write_video(frames, tmp_path / "short.mp4")
    assert main(["bench", "--source", str(short), "--model", str(model), "--frames", "20", "--warmup", "3",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 20 and report["frames_with_hand"] == 20 and report["frame_size"] == [640, 480]
    assert report["threads"] == 1 and report["backend"] == "torch"
    stages = report["stages"]
    assert set(stages) == {"detection", "features", "model", "smoothing", "drawing", "total"}
    assert all(stages[s]["median_ms"] > 0 for s in stages)
    assert stages["total"]["median_ms"] >= stages["detection"]["median_ms"]
    assert report["fps_median"] == pytest.approx(1000 / stages["total"]["median_ms"])
    assert main(["bench", "--source", str(short), "--model", str(model), "--frames", "5", "--backend", "onnx"]) == 0
    table = capsys.readouterr().out
    assert "| detection |" in table and "FPS" in table and "backend onnx" in table
