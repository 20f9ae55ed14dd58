"""Hand detection, landmark features, masks and annotation, on real photos."""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from fingerspell.errors import FingerspellError
from fingerspell.hands.detector import DetectorOptions, HandDetector, build_task_bundle, load_image, to_bgr_uint8
from fingerspell.hands.landmarks import FEATURE_DIM, Hand, hand_vector, normalize_landmarks
from fingerspell.hands.render import annotate_frame, render_hand_mask, render_mask


@pytest.fixture(scope="module")
def task_bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("task") / "hand_landmarker.task"
    build_task_bundle(path, model_complexity=1)
    return path


@pytest.fixture(scope="module")
def detectors(task_bundle):
    legacy = HandDetector(backend="solutions", mode="image", max_hands=1)
    tasks = HandDetector(backend="tasks", mode="image", max_hands=1, task_path=str(task_bundle))
    yield {"solutions": legacy, "tasks": tasks}
    legacy.close()
    tasks.close()


def _massey_letters(data: Path, per_letter: int) -> list:
    files = []
    for d in sorted((data / "massey").iterdir()):
        if d.name.isalpha():
            files += sorted(d.glob("*.jp*g"))[::7][:per_letter]
    return files


def test_task_bundle_is_an_uncompressed_zip_of_the_bundled_models(task_bundle):
    with zipfile.ZipFile(task_bundle) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert set(infos) == {"hand_detector.tflite", "hand_landmarks_detector.tflite"}
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos.values())


def test_massey_hands_are_found_with_the_border_retry(data, detectors):
    files = _massey_letters(data, per_letter=2)
    det = detectors["solutions"]
    plain = found = 0
    for f in files:
        hands = det.detect(load_image(f))
        found += bool(hands)
        plain += bool(hands) and not det.last_used_border
    assert len(files) == 52
    # Hands fill massey photos; without the bordered retry far fewer are found.
    assert found / len(files) >= 0.92
    assert plain < found


def test_hands_at_the_photo_edge_are_looked_at_again_with_room_around_them(data, detectors):
    """A hand within 10% of the edge (massey's tight crops) is detected again on a bordered copy,
    mapped back to the photo's own coordinates; a hand in the middle of the frame is left alone."""
    plain = HandDetector(backend="solutions", mode="image", max_hands=1, refine_border=0.0)
    refined = detectors["solutions"]
    try:
        files = _massey_letters(data, per_letter=1)[:12]
        moved = []
        for f in files:
            a, b = plain.detect(load_image(f)), refined.detect(load_image(f))
            assert a and b, f
            if plain.last_used_border:  # found only on the bordered retry: nothing to refine
                continue
            moved.append(float(np.abs(a[0].landmarks[:, :2] - b[0].landmarks[:, :2]).mean()))
            assert b[0].image_size == a[0].image_size
        assert len(moved) >= 6
        assert sum(m > 1e-4 for m in moved) >= len(moved) - 2  # re-detected, so not bit-identical
        assert np.median(moved) < 0.05  # ... yet the same hand, in the photo's coordinates
        img = load_image(data / "mon95/user_3/A7.jpg")
        a, b = plain.detect(img), refined.detect(img)
        pts = a[0].landmarks[:, :2]
        assert 0.1 < pts.min() and pts.max() < 0.9
        np.testing.assert_allclose(a[0].landmarks, b[0].landmarks)
    finally:
        plain.close()


def test_refine_options_are_checked():
    with pytest.raises(FingerspellError, match="refine_edge"):
        DetectorOptions(refine_edge=0.7)


@pytest.mark.parametrize("backend", ["solutions", "tasks"])
@pytest.mark.parametrize("fill", [0, 255])
def test_no_hand_on_a_blank_frame(detectors, backend, fill):
    frame = np.full((480, 640, 3), fill, np.uint8)
    assert detectors[backend].detect(frame) == []


@pytest.mark.parametrize("rel", ["asl-alphabets/test/A/A0.jpg", "mon95/user_3/B0.jpg", "asl-alphabets/test/L/L3.jpg"])
def test_backends_agree_on_landmarks_and_handedness(data, detectors, rel):
    img = load_image(data / rel)
    h, w = img.shape[:2]
    a = detectors["solutions"].detect(img)
    b = detectors["tasks"].detect(img)
    assert len(a) == 1 and len(b) == 1
    diff = np.linalg.norm((a[0].landmarks[:, :2] - b[0].landmarks[:, :2]) * [w, h], axis=1)
    assert np.median(diff) < 6.0 and diff.max() < 12.0, f"landmark gaps {diff.round(1)} px"
    # These signers use the right hand; in the mirror image it is a left hand.
    assert a[0].handedness == b[0].handedness == "Right"
    mirrored = np.ascontiguousarray(img[:, ::-1])
    am, bm = detectors["solutions"].detect(mirrored), detectors["tasks"].detect(mirrored)
    assert am[0].handedness == bm[0].handedness == "Left"
    # The mirrored hand's landmark vector equals the original's (left hands are mirrored back).
    assert np.allclose(hand_vector(a[0]), hand_vector(am[0]), atol=0.35)


def test_hand_record_has_what_models_and_overlays_need(data, detectors):
    img = load_image(data / "mon95/user_5/C0.jpg")
    hand = detectors["solutions"].detect(img)[0]
    assert hand.landmarks.shape == (21, 3) and hand.landmarks.dtype == np.float32
    assert hand.world_landmarks is not None and hand.world_landmarks.shape == (21, 3)
    assert 0.5 < hand.score <= 1.0
    x0, y0, x1, y1 = hand.box
    assert 0 <= x0 < x1 < img.shape[1] and 0 <= y0 < y1 < img.shape[0]
    assert hand.image_size == (img.shape[1], img.shape[0])


@pytest.mark.parametrize("backend", ["solutions", "tasks"])
@pytest.mark.parametrize("complexity", [0, 1])
def test_video_mode_tracks_a_stream(data, backend, complexity):
    frames = [cv2.resize(load_image(f), (640, 480)) for f in sorted((data / "mon95/user_4").glob("A*.jpg"))]
    with HandDetector(backend=backend, mode="video", max_hands=2, model_complexity=complexity,
                      min_detection_confidence=0.7, min_tracking_confidence=0.7) as det:
        counts = [len(det.detect(f)) for f in frames * 2]
    assert sum(c >= 1 for c in counts) >= 0.9 * len(counts)


def test_landmark_vector_is_invariant_to_position_and_size_and_mirrors_left_hands():
    rng = np.random.default_rng(0)
    lm = np.zeros((21, 3), np.float32)
    lm[:, :2] = rng.uniform(0.3, 0.6, (21, 2))
    lm[:, 2] = rng.normal(0, 0.02, 21)
    v = normalize_landmarks(lm, (640, 480), "Right")
    assert v.shape == (FEATURE_DIM,) and v.dtype == np.float32 and np.all(np.isfinite(v))
    assert np.allclose(v[:3], 0)  # wrist-relative
    moved = lm.copy()
    moved[:, :2] = lm[:, :2] * 0.5 + 0.1
    moved[:, 2] = lm[:, 2] * 0.5
    assert np.allclose(normalize_landmarks(moved, (640, 480), "Right"), v, atol=1e-4)
    mirror = lm.copy()
    mirror[:, 0] = 1.0 - lm[:, 0]
    assert np.allclose(normalize_landmarks(mirror, (640, 480), "Left"), v, atol=1e-4)
    # Aspect: the same normalised landmarks in a wider image are a different shape.
    assert not np.allclose(normalize_landmarks(lm, (960, 480), "Right"), v, atol=1e-2)
    # No rotation normalisation: a hand turned 90 degrees gives another vector.
    rot = lm.copy()
    rot[:, 0], rot[:, 1] = 0.5 + (lm[:, 1] - 0.5) * 480 / 640, 0.5 - (lm[:, 0] - 0.5) * 640 / 480
    assert not np.allclose(normalize_landmarks(rot, (640, 480), "Right"), v, atol=1e-2)


def test_mask_is_the_same_wherever_and_however_large_the_hand(data, detectors):
    hand = detectors["solutions"].detect(load_image(data / "asl-alphabets/test/B/B1.jpg"))[0]
    w, h = 640, 480
    px = hand.landmarks[:, :2] * hand.image_size
    px = px - px.min(axis=0)
    corner = np.c_[(px * 0.5 + [3, 5]) / [w, h], hand.landmarks[:, 2]]
    centre = np.c_[(px * 1.75 + [200, 90]) / [w, h], hand.landmarks[:, 2]]
    a = render_mask(corner, (w, h), size=224)
    b = render_mask(centre, (w, h), size=224)
    assert a.shape == (224, 224, 3) and a.dtype == np.uint8 and a.any()
    assert np.array_equal(a, b)
    # Deterministic, size configurable, mirror on request.
    assert np.array_equal(render_hand_mask(hand, 96), render_hand_mask(hand, 96))
    assert render_hand_mask(hand, 64).shape == (64, 64, 3)
    m = render_hand_mask(hand, 224, mirror=True)
    assert np.array_equal(m, render_hand_mask(hand, 224)[:, ::-1])
    assert not np.array_equal(m, render_hand_mask(hand, 224))
    # Joints coloured by finger and grey palm edges: several distinct colours.
    assert len(np.unique(a.reshape(-1, 3), axis=0)) >= 6


def test_annotation_draws_box_label_and_skeleton(data, detectors):
    img = load_image(data / "mon95/user_6/L0.jpg")
    hands = detectors["solutions"].detect(img)
    out = annotate_frame(img.copy(), hands, ["L"], [0.93])
    x0, y0, x1, y1 = hands[0].box
    changed = np.any(out != img, axis=2)
    assert changed[y0:y1 + 1, x0:x1 + 1].sum() > 50  # skeleton and box
    assert changed[: max(1, y0), x0:x1].sum() > 20  # label box above the hand


# --- bad input -------------------------------------------------------------------------

def test_corrupt_and_missing_image_files_give_clear_errors(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with pytest.raises(FingerspellError, match="broken.jpg"):
        load_image(bad)
    with pytest.raises(FingerspellError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(FingerspellError, match="not an image"):
        load_image(text)


def test_odd_frames_are_converted_or_refused_clearly(data, detectors):
    img = load_image(data / "mon95/user_3/A0.jpg")
    det = detectors["solutions"]
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    rgba = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    assert len(det.detect(gray)) == 1
    assert len(det.detect(rgba)) == 1
    assert len(det.detect(gray[:, :, None])) == 1
    assert len(det.detect(img.astype(np.float32) / 255.0)) == 1
    assert to_bgr_uint8(img.astype(np.uint16) * 257).dtype == np.uint8
    with pytest.raises(FingerspellError, match="empty"):
        det.detect(np.zeros((0, 640, 3), np.uint8))
    with pytest.raises(FingerspellError, match="dtype"):
        det.detect(img.astype(np.complex64))
    with pytest.raises(FingerspellError, match="channels"):
        det.detect(np.zeros((10, 10, 5), np.uint8))
    with pytest.raises(FingerspellError, match="not an image array"):
        det.detect("frame.jpg")


def test_task_paths_that_are_missing_or_not_bundles_give_clear_errors(tmp_path):
    with pytest.raises(FingerspellError, match="does not exist"):
        HandDetector(backend="tasks", task_path=str(tmp_path / "missing.task"))
    junk = tmp_path / "junk.task"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(FingerspellError, match="not a hand landmarker"):
        HandDetector(backend="tasks", task_path=str(junk))
    wrong = tmp_path / "wrong.task"
    with zipfile.ZipFile(wrong, "w") as zf:
        zf.writestr("something.tflite", b"x")
    with pytest.raises(FingerspellError, match="lacks"):
        HandDetector(backend="tasks", task_path=str(wrong))
    with pytest.raises(FingerspellError, match="backend"):
        DetectorOptions(backend="opencv")


def test_hand_dataclass_pixel_landmarks():
    lm = np.tile(np.array([[0.5, 0.25, 0.0]], np.float32), (21, 1))
    hand = Hand(landmarks=lm, handedness="Right", score=1.0, box=(0, 0, 1, 1), image_size=(640, 480))
    assert np.allclose(hand.pixel_landmarks()[0], [320, 120])


def test_a_hand_reaching_out_of_the_picture_is_cut_off():
    from fingerspell.hands.landmarks import cut_off

    lm = np.zeros((21, 3), np.float32)
    lm[:, 0], lm[:, 1] = np.linspace(0.3, 0.6, 21), np.linspace(0.9, 0.2, 21)
    assert not cut_off(lm)
    low = lm.copy()
    low[:2, 1] = 1.08  # the wrist and the thumb's base below the frame: a hand close to the camera
    assert not cut_off(low)
    for i, axis, value in ((8, 1, -0.05), (20, 0, 1.02), (12, 0, -0.01)):
        out = lm.copy()
        out[i, axis] = value  # a fingertip beyond an edge
        assert cut_off(out), (i, axis, value)


def _dimmed(image: np.ndarray, factor: float = 0.3) -> np.ndarray:
    """The photo as a camera in a dim room gives it: darker, with sensor noise (seeded)."""
    from fingerspell.hands.exposure import dimmed

    return dimmed(image, factor, np.random.default_rng(0))


@pytest.mark.parametrize("rel", ["mon95/user_7/Q0.jpg", "mon95/user_3/P3.jpg", "mon95/user_6/Q5.jpg"])
def test_a_dark_frame_is_lifted_before_the_detector_reads_it(data, rel):
    """Hands pointing down (P, Q) in a dim room: MediaPipe misses them unless the frame is lifted
    (hands/exposure.py); a frame in good light goes to the detector untouched."""
    from fingerspell.hands.exposure import lift_dark

    image = load_image(data / rel)
    assert lift_dark(image) is image  # a well-lit photo is not changed at all
    dark = _dimmed(image)
    lifted = lift_dark(dark)
    assert lifted is not dark and lifted.mean() > 2 * dark.mean()
    with HandDetector(mode="image", max_hands=1, lift_dark=0) as off, HandDetector(mode="image", max_hands=1) as on:
        assert off.detect(dark) == []  # without the lift: no hand
        hands = on.detect(dark)
    assert len(hands) == 1
    truth = HandDetector(mode="image", max_hands=1).detect(image)[0]
    box, found = np.array(truth.box, float), np.array(hands[0].box, float)
    assert np.abs(box - found).max() < 0.2 * (box[2] - box[0])  # the same hand, where it is in good light


def test_a_dark_photo_is_read_as_its_letter(data):
    import fingerspell

    result = fingerspell.load().predict(_dimmed(load_image(data / "mon95/user_7/Q0.jpg")))
    assert result.hand and result.letter == "Q"
