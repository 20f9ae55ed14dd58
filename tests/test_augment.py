"""Augmentation keeps masks and vectors valid, and does what it says (on real detected hands)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fingerspell import features
from fingerspell.data.augment import (
    PARENT,
    AugmentOptions,
    augment_mask,
    augment_masks,
    augment_points,
    augment_vector,
    augment_vectors,
    flex_fingers,
    random_flex,
    scale_bones,
)
from fingerspell.errors import FingerspellError
from fingerspell.hands.detector import HandDetector, load_image
from fingerspell.hands.landmarks import FEATURE_DIM, palm_size, points_from_vector
from fingerspell.hands.render import FINGER_COLORS, PALM_COLOR, WRIST_COLOR

PHOTOS = ("asl-alphabets/train/A/A0.jpg", "asl-alphabets/train/L/L0.jpg", "massey/v/hand1_v_bot_seg_1_cropped.jpeg",
          "mon95/user_4/B0.jpg")
NO_CHANGE = AugmentOptions(flip_p=0.0, scale=(1.0, 1.0), translate=0.0, rotate_deg=0.0, crop_p=0.0,
                           vector_rotate_deg=0.0, vector_scale=(1.0, 1.0), joint_jitter=0.0, bone_scale=0.0,
                           mirror_p=0.0, view_yaw_deg=0.0, view_pitch_deg=0.0)
PALETTE = {(0, 0, 0), PALM_COLOR, WRIST_COLOR, *FINGER_COLORS}


@pytest.fixture(scope="module")
def hands(data):
    """Real MediaPipe hands from real photos."""
    out = []
    with HandDetector(mode="image", min_detection_confidence=0.5, max_hands=1) as det:
        for rel in PHOTOS:
            found = det.detect(load_image(data / rel))
            assert found, rel
            out.append(found[0])
    return out


@pytest.fixture(scope="module")
def masks(hands):
    return np.stack([features.hand_mask(h, size=96) for h in hands])


@pytest.fixture(scope="module")
def vectors(hands):
    return np.stack([features.hand_vector(h) for h in hands])


def _colours(mask: np.ndarray) -> set:
    return {tuple(int(c) for c in px) for px in mask.reshape(-1, 3)}


def test_masks_stay_valid_and_keep_the_palette(masks):
    rng = np.random.default_rng(0)
    for _ in range(5):
        out = augment_masks(masks, rng, AugmentOptions())
        assert out.shape == masks.shape and out.dtype == np.uint8
        for m in out:
            assert _colours(m) <= PALETTE  # nearest-neighbour: no blended colours
            assert m.any()
    black = np.zeros((2, 96, 96, 3), np.uint8)
    assert not augment_masks(black, rng).any()


def test_flip_mirrors_the_mask_and_changes_it(masks):
    rng = np.random.default_rng(1)
    flip_only = replace(NO_CHANGE, flip_p=1.0)
    for m in masks:
        out = augment_mask(m, rng, flip_only)
        assert np.array_equal(out, m[:, ::-1])
        assert not np.array_equal(out, m)
    assert np.array_equal(augment_mask(masks[0], rng, NO_CHANGE), masks[0])


def _wrist_to_middle_angle(mask: np.ndarray) -> float:
    """Direction (degrees) from the white wrist dot to the centre of the blue (middle finger) pixels."""
    wrist = np.argwhere(np.all(mask == WRIST_COLOR, axis=2)).mean(axis=0)
    middle = np.argwhere(np.all(mask == FINGER_COLORS[2], axis=2)).mean(axis=0)
    dy, dx = middle - wrist
    return float(np.degrees(np.arctan2(dy, dx)))


def test_mask_rotation_stays_within_15_degrees(masks):
    rng = np.random.default_rng(2)
    opts = replace(NO_CHANGE, rotate_deg=15.0)
    turned = []
    for m in masks:
        base = _wrist_to_middle_angle(m)
        for _ in range(10):
            d = (_wrist_to_middle_angle(augment_mask(m, rng, opts)) - base + 180) % 360 - 180
            assert abs(d) <= 15.0 + 3.0  # pixel rounding of the centroids
            turned.append(abs(d))
    assert max(turned) > 5.0  # it does rotate
    with pytest.raises(FingerspellError, match="rotate_deg"):
        AugmentOptions(rotate_deg=90.0)


def test_vectors_stay_valid(vectors):
    rng = np.random.default_rng(3)
    out = augment_vectors(vectors, rng, AugmentOptions())
    assert out.shape == vectors.shape == (len(PHOTOS), FEATURE_DIM) and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert not np.allclose(out, vectors)
    for v in out:
        pts = points_from_vector(v)
        assert np.allclose(pts[0], 0.0, atol=1e-6)  # wrist at the origin
        assert palm_size(pts) == pytest.approx(1.0, rel=1e-4)  # unit palm, like every real vector
        assert np.abs(v).max() < 10
    zeros = np.zeros((3, FEATURE_DIM), np.float32)
    assert not augment_vectors(zeros, rng).any()
    # nothing switched on: the vector comes back as it was
    assert np.allclose(augment_vector(vectors[0], rng, NO_CHANGE), vectors[0], atol=1e-5)


def test_vector_rotation_is_in_plane_and_bounded(vectors):
    rng = np.random.default_rng(4)
    opts = replace(NO_CHANGE, vector_rotate_deg=15.0, renormalize=False)
    angles = []
    for v in vectors:
        p = points_from_vector(v)
        for _ in range(20):
            q = augment_points(p, rng, opts)
            a0 = np.degrees(np.arctan2(p[9, 1], p[9, 0]))
            a1 = np.degrees(np.arctan2(q[9, 1], q[9, 0]))
            d = (a1 - a0 + 180) % 360 - 180
            assert abs(d) <= 15.0 + 1e-6
            assert np.allclose(q[:, 2], p[:, 2])  # z untouched by an image-plane rotation
            assert np.allclose(np.linalg.norm(q[:, :2], axis=1), np.linalg.norm(p[:, :2], axis=1))
            angles.append(abs(d))
    assert max(angles) > 5.0


def test_bone_scaling_moves_descendants_with_the_bone(vectors):
    p = points_from_vector(vectors[0])
    factors = np.ones(21)
    factors[5] = 1.5  # wrist -> index knuckle
    q = scale_bones(p, factors)
    shift = 0.5 * (p[5] - p[0])
    for j in (5, 6, 7, 8):  # the index finger rides along
        assert np.allclose(q[j], p[j] + shift)
    others = [j for j in range(21) if j not in (5, 6, 7, 8)]
    assert np.allclose(q[others], p[others])
    assert PARENT[8] == 7 and PARENT[5] == 0 and PARENT[17] == 0
    # random bone scales keep every bone within +-10% of its length
    rng = np.random.default_rng(5)
    opts = replace(NO_CHANGE, bone_scale=0.10, renormalize=False)
    q = augment_points(p, rng, opts)
    for j in range(1, 21):
        ratio = np.linalg.norm(q[j] - q[PARENT[j]]) / np.linalg.norm(p[j] - p[PARENT[j]])
        assert 0.9 - 1e-9 <= ratio <= 1.1 + 1e-9


def test_mirroring_flips_x(vectors):
    rng = np.random.default_rng(6)
    p = points_from_vector(vectors[1])
    q = augment_points(p, rng, replace(NO_CHANGE, mirror_p=1.0, renormalize=False))
    assert np.allclose(q[:, 0], -p[:, 0]) and np.allclose(q[:, 1:], p[:, 1:])


def test_augmentation_is_reproducible_with_a_seed(masks, vectors):
    a = augment_masks(masks, np.random.default_rng(7))
    b = augment_masks(masks, np.random.default_rng(7))
    assert np.array_equal(a, b)
    assert np.array_equal(augment_vectors(vectors, np.random.default_rng(7)),
                          augment_vectors(vectors, np.random.default_rng(7)))


def test_view_rotation_turns_the_hand_in_depth(vectors):
    rng = np.random.default_rng(11)
    p = points_from_vector(vectors[0])
    opts = replace(NO_CHANGE, view_yaw_deg=30.0, view_pitch_deg=20.0, renormalize=False)
    q = augment_points(p, rng, opts)
    assert np.allclose(q[0], 0.0)
    assert not np.allclose(q[:, 2], p[:, 2])
    # A rigid turn keeps every joint's distance from the wrist.
    assert np.allclose(np.linalg.norm(q, axis=1), np.linalg.norm(p, axis=1))


def test_finger_flex_bends_fingers_and_keeps_bones(vectors):
    """Bending a joint moves only the points beyond it, keeps every bone's length; 0 changes nothing."""
    pts = np.stack([points_from_vector(v) for v in vectors])
    n = len(pts)
    np.testing.assert_allclose(flex_fingers(pts, np.zeros((n, 5, 3)), np.zeros((n, 5))), pts, atol=1e-12)
    flex = np.zeros((n, 5, 3))
    flex[:, 1, 1] = np.deg2rad(30)  # the index finger's middle joint (landmark 6)
    bent = flex_fingers(pts, flex, np.zeros((n, 5)))
    moved = np.abs(bent - pts).max(axis=(0, 2))
    assert set(np.flatnonzero(moved > 1e-9)) == {7, 8}
    bones = lambda p: np.linalg.norm(p[:, 1:] - p[:, list(PARENT[1:])], axis=-1)  # noqa: E731
    rand = random_flex(pts, np.random.default_rng(0), 15.0)
    np.testing.assert_allclose(bones(rand), bones(pts), atol=1e-9)
    assert np.abs(rand - pts).mean() > 0.005
    out = augment_points(pts[0], np.random.default_rng(0), AugmentOptions(finger_flex_deg=15.0))
    assert out.shape == (21, 3) and np.isfinite(out).all()
    with pytest.raises(FingerspellError):
        AugmentOptions(finger_flex_deg=60.0)
