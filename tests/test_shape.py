"""Shape and orientation features (hands/shape.py) on real MediaPipe hands from real photos."""

from __future__ import annotations

import numpy as np
import pytest

from fingerspell.hands.detector import HandDetector, load_image
from fingerspell.hands.landmarks import Hand, normalize_landmarks, points_from_vector
from fingerspell.hands.shape import (
    ORIENTATION_DIM,
    SHAPE_DIM,
    SHAPE_VECTOR_DIM,
    hand_shape_vector,
    orientation_features,
    pair_features,
    palm_frame,
    shape_features,
    shape_vector_from_points,
    shape_vector_from_vector,
)

PHOTOS = ("mon95/user_5/C0.jpg", "mon95/user_4/H0.jpg", "mon95/user_4/U0.jpg",
          "massey/r/hand1_r_bot_seg_1_cropped.jpeg")


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


@pytest.fixture(scope="module")
def hands(data) -> list:
    out = []
    with HandDetector(backend="solutions", mode="image", max_hands=1) as det:
        for rel in PHOTOS:
            found = det.detect(load_image(data / rel))
            assert found, f"no hand found in {rel}"
            out.append(found[0])
    return out


def _points(hand: Hand) -> np.ndarray:
    return points_from_vector(normalize_landmarks(hand.landmarks, hand.image_size, hand.handedness))


def test_palm_frame_is_a_right_handed_orthonormal_basis(hands):
    for hand in hands:
        f = palm_frame(_points(hand))
        assert np.allclose(f @ f.T, np.eye(3), atol=1e-9)
        assert np.linalg.det(f) == pytest.approx(1.0, abs=1e-9)


def test_turning_the_hand_in_3d_keeps_the_shape_and_turns_the_orientation(hands):
    rng = np.random.default_rng(0)
    for hand in hands:
        pts = _points(hand)
        shape, orient = shape_features(pts), orientation_features(pts)
        assert shape.shape == (SHAPE_DIM,) and orient.shape == (ORIENTATION_DIM,)
        for _ in range(20):
            rot = _rotation(rng)
            turned = pts @ rot.T
            assert np.allclose(shape_features(turned), shape, atol=1e-5)
            assert np.allclose(pair_features(turned), pair_features(pts), atol=1e-5)
            o = orientation_features(turned)
            assert np.allclose(o[:3], rot @ orient[:3], atol=1e-5)  # normal follows the turn
            assert np.allclose(o[3:], rot @ orient[3:], atol=1e-5)  # so does the pointing direction


def test_orientation_tells_h_from_u_where_the_shape_is_alike(hands):
    _, h, u, _ = (shape_vector_from_points(_points(x)) for x in hands)
    point_h, point_u = h[SHAPE_DIM + 3:], u[SHAPE_DIM + 3:]
    # Image y grows downwards: U points up, H points sideways.
    assert point_u[1] < -0.9 and abs(point_h[0]) > 0.6
    assert np.degrees(np.arccos(np.clip(point_h @ point_u, -1, 1))) > 45


def test_a_mirrored_left_hand_reads_as_the_right_hand(hands):
    hand = hands[0]
    mirrored = hand.landmarks.copy()
    mirrored[:, 0] = 1.0 - mirrored[:, 0]
    left = Hand(mirrored, "Left", hand.score, hand.box, hand.image_size)
    right = Hand(hand.landmarks, "Right", hand.score, hand.box, hand.image_size)
    assert np.allclose(hand_shape_vector(left), hand_shape_vector(right), atol=1e-5)


def test_batches_stored_vectors_and_world_landmarks(hands):
    pts = np.stack([_points(h) for h in hands])
    batch = shape_vector_from_points(pts)
    assert batch.shape == (len(hands), SHAPE_VECTOR_DIM) and batch.dtype == np.float32
    assert np.allclose(batch[1], shape_vector_from_points(pts[1]))
    vectors = np.stack([normalize_landmarks(h.landmarks, h.image_size, h.handedness) for h in hands])
    assert np.allclose(shape_vector_from_vector(vectors), batch, atol=1e-6)
    for hand in hands:
        assert hand.world_landmarks is not None
        world = hand_shape_vector(hand, use_world=True)
        image = hand_shape_vector(hand)
        assert np.all(np.isfinite(world))
        assert np.allclose(world[SHAPE_DIM:], image[SHAPE_DIM:])  # orientation from the image points
    assert not np.any(shape_vector_from_points(np.zeros((21, 3))))  # no hand: zeros, no NaN


def test_pair_features_see_r_cross_its_fingers(data, hands):
    # Index tip minus middle tip along the palm's across axis: positive side by side (U), negative crossed (R).
    r_hand, u_hand = hands[3], hands[2]
    assert pair_features(_points(r_hand))[0] < 0 < pair_features(_points(u_hand))[0]
