"""A second reading of the same hand: MediaPipe run again on the mirrored picture.

MediaPipe's landmark network is not mirror-symmetric, so the mirrored picture gives a second,
partly independent guess of the same hand, above all of the joints it cannot see (a thumb inside a
fist, a finger behind another). Mirrored back, the two readings describe one hand; the landmark
model reads both and averages its probabilities, and trains on both (docs/accuracy_features.md,
"A second look"). Measured on people the model never saw (``benchmarks/flip_variants.py``).
"""

from __future__ import annotations

from typing import Iterable, Optional

import numpy as np

#: a mirrored reading belongs to a hand when its points lie this close on average (a fraction of the
#: picture's side); two hands in one picture are further apart than that
MATCH_DISTANCE = 0.05


def mirror_back(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks found on a mirrored picture, in the original picture's coordinates."""
    out = np.array(landmarks, dtype=np.float32, copy=True)
    out[:, 0] = 1.0 - out[:, 0]
    return out


def match_reading(candidates: Iterable[np.ndarray], reference: np.ndarray,
                  tolerance: float = MATCH_DISTANCE) -> Optional[np.ndarray]:
    """The candidate (already mirrored back) nearest to ``reference``, if within ``tolerance``."""
    ref = np.asarray(reference, dtype=np.float64)[:, :2]
    best, best_err = None, tolerance
    for cand in candidates:
        err = float(np.linalg.norm(np.asarray(cand, dtype=np.float64)[:, :2] - ref, axis=1).mean())
        if err < best_err:
            best, best_err = np.asarray(cand, dtype=np.float32), err
    return best


def _mirrored(frame_bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(frame_bgr[:, ::-1])


def matched(mirrored_hands, references) -> list:
    """Per reference (landmarks), the hand found on the mirrored frame that is the same hand,
    mirrored back (None where there is none)."""
    found = [mirror_back(h.landmarks) for h in mirrored_hands]
    return [match_reading(found, ref) for ref in references]


def second_readings(detector, frame_bgr: np.ndarray, references, timestamp_ms: Optional[int] = None) -> list:
    """Per reference hand (landmarks), its reading on the mirrored frame by ``detector`` (or None)."""
    if not len(references):
        return []
    return matched(detector.detect(_mirrored(frame_bgr), timestamp_ms=timestamp_ms), references)


class MirrorLook:
    """The second look of a :class:`~fingerspell.hands.detector.HandDetector`: a second graph of the
    same settings reads the mirrored frame in a thread of its own while the first graph reads the
    frame (MediaPipe runs outside Python's lock: on 2 cores a frame took 14.9 ms with both graphs
    side by side against 26.8 ms one after the other and 10.8 ms for one graph)."""

    def __init__(self, detector) -> None:
        from concurrent.futures import ThreadPoolExecutor
        from dataclasses import replace

        # the detector's own class (no import cycle), without a second look of its own
        self.detector = type(detector)(replace(detector.options, second_look=False))
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="fingerspell-second-look")

    def start(self, frame_bgr: np.ndarray, timestamp_ms: Optional[int]):
        """Begin reading the mirrored frame; returns what :meth:`attach` waits for."""
        return self._pool.submit(self.detector.detect, _mirrored(frame_bgr), timestamp_ms)

    def attach(self, pending, hands) -> None:
        """Set each hand's ``second_landmarks`` (None where the mirrored frame shows no such hand)."""
        for hand, second in zip(hands, matched(pending.result(), [h.landmarks for h in hands])):
            hand.second_landmarks = second

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.detector.close()
