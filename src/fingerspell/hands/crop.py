"""The hand's own pixels: a small grey square about its landmarks, read by the hand-crop model
(:mod:`fingerspell.models.hand_crop`) beside the landmark model.

The square is centred on the landmarks' box and 1.3 times its longer side (plus 4 px), so the whole
hand and a little around it show whatever the hand's distance from the camera; a left hand is
mirrored so that every crop shows a right hand, as the landmark vectors do.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Side of the crop in pixels (48: the thumb's place in a fist still shows; 4x cheaper than 96).
CROP_SIZE = 48


def crop_hand(image: np.ndarray, landmarks: np.ndarray, left: bool, size: int = CROP_SIZE) -> np.ndarray:
    """(size, size) uint8 grey crop of ``image`` (BGR or grey) about ``landmarks`` ((21, 2+) in 0-1
    image units); ``left`` mirrors it. Edges beyond the image repeat its border pixels."""
    h, w = image.shape[:2]
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2] * np.array([w, h])
    lo, hi = pts.min(0), pts.max(0)
    centre, side = (lo + hi) / 2, 1.3 * float(max(hi - lo)) + 4
    # Sampled at k times the crop's size (at least one sample per photo pixel), then averaged k x k:
    # a hand shrunk 4x by one bilinear warp would alias, its pixels changing with sub-pixel moves.
    k = max(1, int(np.ceil(side / size)))
    big, scale = size * k, size * k / side
    m = np.array([[scale, 0, big / 2 - scale * centre[0]], [0, scale, big / 2 - scale * centre[1]]])
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    out = cv2.warpAffine(grey, m, (big, big), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if k > 1:
        out = cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out[:, ::-1]) if left else out
