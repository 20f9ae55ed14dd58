"""What the recognizer draws on a frame: each hand (box, skeleton, letter), the writing hand's
hold state, and the sentence. Colours say how sure a reading is: green when confident, amber when
uncertain; the hold bar fills while a hold is being read and shows the letter once it is written. A
resting hand hidden from the tracker (``runtime/signing_hand.py``) gets a grey dashed box: "resting"."""

from __future__ import annotations

import numpy as np

CONFIDENT = (60, 170, 40)  # BGR
UNCERTAIN = (0, 160, 235)
MOVING = (150, 150, 150)
STATE_TEXT = {"no_hand": "no hand", "moving": "moving", "holding": "holding", "read": "read"}


def draw_frame(frame: np.ndarray, result, sentence: bool = True) -> np.ndarray:
    """Draw ``result`` (a :class:`~fingerspell.runtime.recognizer.FrameResult`) onto ``frame`` in place."""
    from fingerspell.hands.render import annotate_frame

    for h in result.hands:
        colour = CONFIDENT if h.accepted else UNCERTAIN
        label = h.label if h.accepted else f"{h.label}?"
        annotate_frame(frame, [h.hand], [label], [h.confidence], color=colour)
    if getattr(result, "resting", None) is not None:
        draw_resting(frame, result.resting)
    draw_hold_state(frame, result)
    if sentence:
        draw_sentence(frame, result.display or result.sentence)
    return frame


def draw_resting(frame: np.ndarray, box, label: str = "resting") -> None:
    """A grey dashed box around a resting hand's region, so the person sees it is not read."""
    import cv2

    h, w = frame.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, x1, y0, y1 = max(0, x0), min(w - 1, x1), max(0, y0), min(h - 1, y1)
    dash = max(6, (x1 - x0) // 12)
    for a in range(x0, x1, 2 * dash):
        for y in (y0, y1):
            cv2.line(frame, (a, y), (min(a + dash, x1), y), MOVING, 2)
    for a in range(y0, y1, 2 * dash):
        for x in (x0, x1):
            cv2.line(frame, (x, a), (x, min(a + dash, y1)), MOVING, 2)
    cv2.putText(frame, label, (x0 + 4, max(14, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, MOVING, 1, cv2.LINE_AA)


def draw_hold_state(frame: np.ndarray, result) -> None:
    """A bar in the top-left corner: the hold state, filled by the hold's progress."""
    import cv2

    state = result.hold_state
    h, w = frame.shape[:2]
    x0, y0, bw, bh = 10, 10, max(120, w // 5), max(22, h // 20)
    cv2.rectangle(frame, (x0, y0), (x0 + bw, y0 + bh), (40, 40, 40), -1)
    fill = 1.0 if state == "read" else float(result.progress) if state == "holding" else 0.0
    colour = CONFIDENT if state == "read" else UNCERTAIN if state == "holding" else MOVING
    if fill > 0:
        cv2.rectangle(frame, (x0, y0), (x0 + int(bw * min(1.0, fill)), y0 + bh), colour, -1)
    text = STATE_TEXT.get(state, state)
    written = result.hold
    if state == "read" and written is not None:
        text = f"read {written.letter}"
    cv2.putText(frame, text, (x0 + 6, y0 + bh - 6), cv2.FONT_HERSHEY_SIMPLEX, bh / 32.0, (255, 255, 255), 1,
                cv2.LINE_AA)


def draw_sentence(frame: np.ndarray, text: str) -> None:
    """The sentence in white on a dark band at the bottom of the frame (keeps the tail if long)."""
    import cv2

    h, w = frame.shape[:2]
    band = max(28, h // 12)
    roi = frame[h - band:h]
    roi[:] = (roi.astype(np.uint16) * 2 // 5).astype(np.uint8)
    # OpenCV's Hershey fonts are ASCII: the visible space and the cursor become '_' and '|'.
    shown = text.replace("\u00b7", "_").replace("\u2423", "_").replace("\u2502", "|")
    shown = shown.encode("ascii", "replace").decode("ascii")
    scale = band / 40.0
    while shown and cv2.getTextSize(shown, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)[0][0] > w - 20:
        shown = shown[1:]
    cv2.putText(frame, shown, (10, h - band // 3), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2,
                cv2.LINE_AA)
