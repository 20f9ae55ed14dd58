"""Letters from holds: the hand stops, the reading settles, one letter is written.

Per frame the hand's **motion** is the second-largest speed among the wrist and the five
fingertips (one jittery point cannot raise it; two moving fingers do), in palm sizes per second,
so it does not depend on the hand's distance from the camera. Positions are median-filtered over
the last three detections (no one-frame jumps) and the speed is taken over ``motion_window_s``.

A **hold** is a stretch of low motion (hysteresis between ``still_speed`` and ``move_speed``)
with a consistent reading. It writes ONE letter, from the static model's probabilities averaged
over the hold (not a majority of argmaxes), as soon as it spans ``min_hold_s`` and ``min_frames``
frames, the average's top letter reaches ``min_confidence`` and the last frames agree with it
(SPACE and DEL need ``sign_confidence``). Holding longer never repeats the letter. A hold ends
when the hand moves (a slide or bounce makes a double letter), is released (no hand or NOTHING for
over ``dropout_frames`` frames) or its reading changes for ``change_frames`` frames (a shape change
with a still wrist); not for a frame or two without a detection. Frame counts are for 30 fps, and
scaled to the same duration under it (:class:`~fingerspell.reading.tracking.FrameClock`). Holds
that end under ``min_confidence`` write nothing and come back as ``HoldUpdate.unread``. No hold is
read on a frame where the hand speeds up again (the first of a hand come into view: nor when cut short).

J and Z (single frames of the motions in the data sets, in the shapes of I and D): a still hand
never writes them (their static probability is added to I and D); they come only from
:mod:`fingerspell.reading.motion` when a movement ends; one drawn out of a written I (or D) takes
that letter back (``HoldUpdate.retract``), and its still end pose writes nothing.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Deque, List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.data.exceptions import MOTION_LETTER_SHAPES as _FOLD  # a still J / Z is its shape letter
from fingerspell.errors import FingerspellError
from fingerspell.reading.hold_types import RARE_DOUBLES, FrameReading, Hold, HoldOptions, HoldUpdate
from fingerspell.reading.motion import SHAPE_LETTERS, MotionMatcher
from fingerspell.reading.open_hold import OpenHold as _OpenHold
from fingerspell.reading.open_hold import SegmentFrame as _Frame
from fingerspell.reading.tracking import FrameClock, MotionTracker, displacement, pixel_points

__all__ = ["FrameReading", "Hold", "HoldOptions", "HoldSegmenter", "HoldUpdate", "STATES"]

NUM_LANDMARKS = 21
STATES = ("no_hand", "moving", "holding", "read")
_RECENT = 3  # frames whose average must agree with the hold's average before it is read
#: how far the last frames' letter must lead the hold's letter for the hold to start again there
_MOVED_ON = 0.25
_SURE_SPLIT = 0.8  # a written hold read under this is not split off by its own second letter
ACTION_SIGNS = ("SPACE", "DEL")  # signs that end or cut a word: read only when sure (sign_confidence)
_MOVEMENT_S = 1.5  # the motion matcher sees at most the last 1.5 s of a movement
_AFTER_MOTION_S = 0.25  # a hold this soon after a J or Z in its shape is the motion's end pose


class HoldSegmenter:
    """Frame readings in, written letters out: see the module docstring."""

    def __init__(self, classes: Sequence[str], options: Optional[HoldOptions] = None) -> None:
        self.classes = tuple(str(c) for c in classes)
        if not self.classes:
            raise FingerspellError("HoldSegmenter needs the model's class names")
        self.options = options or HoldOptions()
        self._fold = np.arange(len(self.classes))
        for src, dst in _FOLD.items():
            if src in self.classes and dst in self.classes:
                self._fold[self.classes.index(src)] = self.classes.index(dst)
        self._nothing = self.classes.index("NOTHING") if "NOTHING" in self.classes else None
        self._signs = np.isin(self.classes, ACTION_SIGNS)  # SPACE and DEL
        self._matcher = MotionMatcher(self.classes, self.options.motion) if self.options.motion_letters else None
        self._clock = FrameClock()  # frame counts below are for 30 fps: it scales them to the camera's rate
        self.reset()

    def reset(self) -> None:
        self._tracker = MotionTracker(self.options.motion_window_s, self.options.still_speed)
        self._moving, self._missing = True, 0
        self._hold: Optional[_OpenHold] = None
        self._movement: List[_Frame] = []
        self._unmatched: Optional[Tuple[List[_Frame], Optional[Hold]]] = None  # the last movement, if no J/Z
        self._recent: Deque[_Frame] = deque(maxlen=4)
        self._doubt: List[_Frame] = []  # frames after a dropout whose motion is not known yet
        self._left_from, self._held = None, None  # the written hold the current movement left, and its letter
        self._stretch: set = set()  # letters written since the hand last moved or was released
        self._last_written = self._last_end = -math.inf  # _last_end: the last frame of the last letter written
        self._last_motion, self._motion_shapes = -math.inf, ()  # when the last J or Z was written, its shapes
        self._pending: Optional[_OpenHold] = None  # a hold cut short by a movement not yet proven real
        self._pending_moves = 0  # moving frames since it
        self._last_t, self._appeared, self._speeds = -math.inf, -math.inf, (math.nan, math.nan)  # see _maybe_read
        self._state = "no_hand"

    # --- per frame ------------------------------------------------------------------------------
    def update(self, reading: FrameReading) -> HoldUpdate:
        """Feed one frame; returns the state and the letter written on it, if any."""
        frame = self._frame(reading)
        self._clock.tick(reading.t)
        self._last_t = reading.t
        if frame is None:
            return self._absent(reading.t)
        self._missing = 0
        self._appeared = frame.t if self._state == "no_hand" else self._appeared
        motion = self._tracker.push(frame.t, frame.points)
        last = self._speeds[0] if math.isnan(self._speeds[1]) else self._speeds[1]  # the last measured motion
        self._speeds = (last, motion)
        if (self._tracker.jumped or self._tracker.unsure) and not self._moving and self._hold is not None:
            # still before a dropout and found elsewhere after it, or moving across it by the raw figure
            # (frames a slow reader never took grew a settling hand's first hold into a letter: BBOOK):
            # the next measured frame says which; until then the frame neither joins the hold nor reads it
            self._recent.append(frame)
            self._doubt.append(frame)
            return HoldUpdate(self._state, motion, None, self._progress())
        doubt, self._doubt = self._doubt, []
        if not math.isnan(motion):
            if self._moving and motion < self.options.still_speed:
                self._moving = False
            elif not self._moving and motion > self.options.move_speed:
                self._moving = True
        self._recent.append(frame)
        if self._moving:
            return self._on_moving(frame, motion)
        if self._hold is not None:
            self._hold.frames.extend(doubt)  # the hand stayed: they were part of the hold
        return self._on_still(frame, motion)

    def release(self, t: float) -> HoldUpdate:
        """The hand is gone for good (the input ended, another hand took over): the open hold ends
        now, as when the hand leaves the view, instead of being forgotten."""
        self._missing = 1 << 30  # past any dropout
        return self._absent(t)

    def _frame(self, r: FrameReading) -> Optional[_Frame]:
        if r.landmarks is None or r.probs is None:
            return None
        lm = np.asarray(r.landmarks, dtype=np.float64)
        probs = np.asarray(r.probs, dtype=np.float64).reshape(-1)
        if lm.shape != (NUM_LANDMARKS, 3):
            raise FingerspellError(f"frame at t={r.t}: landmarks have shape {lm.shape}, expected (21, 3)")
        if probs.shape[0] != len(self.classes):
            raise FingerspellError(f"frame at t={r.t}: {probs.shape[0]} probabilities for {len(self.classes)} "
                                   "classes: give the segmenter the model's classes")
        if not (np.all(np.isfinite(lm)) and np.all(np.isfinite(probs))):
            return None
        if self._nothing is not None and probs[self._nothing] >= self.options.nothing_threshold:
            return None
        folded = np.bincount(self._fold, weights=probs, minlength=len(self.classes))
        return _Frame(float(r.t), pixel_points(lm, r.image_size), probs, folded)

    def _absent(self, t: float) -> HoldUpdate:
        self._missing += 1
        if self._missing <= self._clock.frames(self.options.dropout_frames) and self._state != "no_hand":
            return HoldUpdate(self._state, float("nan"), None, self._progress())
        hold, retract = self._end_movement(t) if self._movement else (None, None)
        if self._hold is not None:  # the hand left before the frames in doubt were settled: as a hold's
            self._hold.frames.extend(self._doubt)
        written, unread = self._resolve_pending(t) if self._pending is not None else self._close_hold(t)
        hold = hold or written
        self._left_from, self._held, self._stretch, self._doubt = None, None, set(), []
        self._tracker.reset()
        self._speeds = (math.nan, math.nan)  # a hand back in view: its motion is measured afresh
        self._recent.clear()
        self._moving = True  # a hand coming into view is moving until its motion says otherwise
        self._state = "no_hand"
        return HoldUpdate("no_hand", float("nan"), hold, 0.0, retract=retract, unread=unread)

    def _on_moving(self, frame: _Frame, motion: float) -> HoldUpdate:
        written = unread = None
        if self._hold is not None:
            h = self._hold
            self._left_from = None if h.absorbed and not h.wobble else h.written  # a J's end pose: none
            wobbling = h.wobble if h.written is None else None  # a wobble's hold not read yet: still held
            self._held = wobbling if self._left_from is None else self._left_from.letter
            if self._cut_short(self._hold):  # read once the movement proves real (a frame may be a glitch)
                self._pending, self._hold, self._pending_moves = self._hold, None, 0
            else:
                written, unread = self._close_hold(frame.t)
        if self._pending is not None:
            self._pending_moves += 1
            if self._pending_moves >= self._clock.frames(4):
                written, unread = self._resolve_pending(frame.t)
        # the hold this movement left (the reader may write an unsure one): a J/Z drawn out of it takes it back
        self._left_from = written or unread or self._left_from
        self._stretch = set()
        if not self._movement:
            self._movement = list(self._recent)[:-1]  # the frames just before the motion was seen
            self._resume_movement(frame.t)
        self._movement.append(frame)
        if frame.t - self._movement[0].t > _MOVEMENT_S:  # a J or Z takes under a second
            self._movement = [f for f in self._movement if frame.t - f.t <= _MOVEMENT_S]
        self._state = "moving"
        return HoldUpdate("moving", motion, written, 0.0, unread=unread)

    def _on_still(self, frame: _Frame, motion: float) -> HoldUpdate:
        unread = None
        wobble = self._wobble() if self._movement else None
        path, retract = self._end_movement(frame.t) if self._movement else (None, None)  # a J or Z
        pending, self._pending = self._pending, None
        hold = path
        if self._hold is None:
            back = self._settled(frame) if path is None else []  # after a J or Z: the end of its path
            if pending is not None and path is None:
                # the hand stopped again within four moving frames of a cut-short hold: with the
                # same reading it is the same hold (a detector's slip), else that hold is read now
                # (after a J or Z it is dropped: it was the shape the path was drawn with)
                if int(np.argmax(self._average(pending.frames))) == int(np.argmax(self._masked(frame.folded))):
                    self._hold = pending
                else:
                    self._pending = pending
                    hold, unread = self._resolve_pending(frame.t)
            if self._hold is None:
                # a J or Z's end pose (ended on this frame, or the hand settling into it since): no letter
                absorb = self._motion_shapes if frame.t - self._last_motion < _AFTER_MOTION_S else ()
                wobble = wobble if path is None and pending is None else None
                self._hold = _OpenHold(back=back, absorb=absorb + ((wobble,) if wobble else ()), wobble=wobble)
                if wobble:
                    self._stretch.add(wobble)  # written since the hand last moved, as far as splits go
        self._hold.frames.append(frame)
        self._maybe_split()
        if hold is None:
            hold = self._maybe_read(frame.t, still=True)
        self._state = "read" if self._hold.written is not None else "holding"
        return HoldUpdate(self._state, motion, hold, self._progress(), retract=retract, unread=unread)

    def _wobble(self) -> Optional[str]:
        """The held letter, if the movement now ending read it throughout and took the hand less than
        ``double_distance`` (``rare_double_distance`` for Q and Y) from where it held it: the hold goes
        on, nothing is written again (a held K wobbling for two frames was read KK)."""
        held, self._held, frames, o = self._held, None, self._movement, self.options
        if held is None or not o.double_distance:
            return None
        if any(self.classes[int(np.argmax(self._masked(f.folded)))] != held for f in frames):
            return None
        far = max(displacement(frames[0].points, f.points) for f in frames[1:]) if len(frames) > 1 else 0.0
        return held if far < (o.rare_double_distance if held in RARE_DOUBLES else o.double_distance) else None

    # --- holds ----------------------------------------------------------------------------------
    def _settled(self, frame: _Frame) -> List[_Frame]:
        """The frames just before a new hold whose hand already stood where it stands now: the
        motion, measured over ``motion_window_s`` from filtered positions, says "still" a few
        frames after the hand stopped, and those frames belong to the hold."""
        back: List[_Frame] = []
        for f in reversed(list(self._recent)[:-1]):
            if f.t <= self._last_end or displacement(frame.points, f.points) >= self.options.settle_distance:
                break
            back.append(f)
        return back[::-1]

    def _average(self, frames: Sequence[_Frame]) -> np.ndarray:
        return self._masked(np.mean([f.folded for f in frames], axis=0))

    def _masked(self, reading: np.ndarray) -> np.ndarray:  # without SPACE and DEL under sign_confidence
        return np.where(self._signs & (reading < self.options.sign_confidence), 0.0, reading)

    def _summary(self, frames: Sequence[_Frame], written_at: float, kind: str = "static") -> Hold:
        avg = self._average(frames)
        order = np.argsort(-avg)[:3]
        top = tuple((self.classes[i], float(avg[i])) for i in order)
        return Hold(top[0][0], top[0][1], top, frames[0].t, frames[-1].t, written_at, kind)

    def _maybe_read(self, t: float, still: bool = False) -> Optional[Hold]:
        h, o = self._hold, self.options
        if h is None or h.written is not None or not self._long_enough(h.frames):
            return None
        # not on a still frame speeding up again (over still_speed and the last measured motion: frames
        # lost may hide a start, SMALLL), nor the first hold of a hand come into view when cut short (BBOOK)
        before, now = self._speeds
        if (still or self._last_written < self._appeared) and now >= o.still_speed and now > before:
            return None
        avg = self._average(h.frames)
        best = int(np.argmax(avg))
        n_recent = self._clock.frames(_RECENT)
        recent = self._average(h.frames[-min(len(h.frames), n_recent):])
        if int(np.argmax(recent)) != best:
            if recent.max() - recent[best] >= _MOVED_ON:
                h.frames = h.frames[-n_recent:]  # the reading moved on: the hold starts again
            return None  # else a flicker between two letters (S 0.5 / E 0.4): the hold goes on
        if len(h.frames) <= n_recent and any(int(np.argmax(self._masked(f.folded))) != best for f in h.frames):
            return None  # a hold no longer than the agreement window (under 30 fps): every frame must agree
        # a sign left out (under sign_confidence) that held most of it: its best letter, if sure among letters
        mass = avg.sum()
        half_sign = mass <= 1 - o.min_confidence and avg[best] >= o.min_confidence * mass
        if (avg[best] < o.min_confidence and not half_sign) or t - self._last_written < o.min_gap_s:
            return None
        # the still end pose of a J or Z just written, or a flicker back to a letter already written
        if self.classes[best] in h.absorb or (h.split and self.classes[best] in self._stretch):
            h.written, h.absorbed = self._summary(h.frames, t), True
            return None
        h.written = self._summary(h.frames, t)
        self._last_written, self._last_end = t, h.written.end
        self._stretch.add(h.written.letter)
        return h.written

    def _maybe_split(self) -> None:
        """A read hold whose reading changes for ``change_frames`` frames ends; a new one begins."""
        h, o = self._hold, self.options
        n_change = self._clock.frames(o.change_frames)
        if h is None or h.written is None or len(h.frames) <= n_change:
            return
        tail = h.frames[-n_change:]
        readings = [self._masked(f.folded) for f in tail]
        letters = {int(np.argmax(r)) for r in readings}
        if len(letters) != 1:
            return
        idx, w = letters.pop(), h.written
        if self.classes[idx] == w.letter or min(r[idx] for r in readings) < o.min_confidence:
            return
        if w.confidence < _SURE_SPLIT and w.top[1:] and w.top[1][0] == self.classes[idx]:
            return  # an unsure hold drifting to its own runner-up (O 0.58, C 0.42) is one letter
        self._hold = _OpenHold(frames=list(tail), split=True)

    def _cut_short(self, h: _OpenHold) -> bool:
        return h.written is None and bool(h.back) and not self._long_enough(h.frames)

    def _resolve_pending(self, t: float) -> Tuple[Optional[Hold], Optional[Hold]]:
        """Read the hold a movement cut short (see :meth:`_close_hold`)."""
        self._hold, self._pending = self._pending, None
        return self._close_hold(t)

    def _close_hold(self, t: float) -> Tuple[Optional[Hold], Optional[Hold]]:
        """End the open hold: (a letter written now, a hold that never got confident: unread)."""
        h = self._hold
        if h is not None and self._cut_short(h):
            # Too short for the frames the motion called still, which it calls still a few frames
            # late: with the frames before it, in the same place, it may be long enough (a last
            # letter before the hand leaves, a fluent signer's three letters a second).
            h.frames, h.back = h.back + h.frames, []
            written = self._maybe_read(t)
            if written is not None or h.written is not None:
                self._hold = None
                return written, None
        self._hold = None
        if h is None or h.written is not None or not self._long_enough(h.frames):
            return None, None
        unread = self._summary(h.frames, float("nan"))
        return None, (None if unread.letter in h.absorb else unread)  # a J or Z's unsure end pose is no letter

    def _progress(self) -> float:
        h, o = self._hold, self.options
        if h is None:
            return 0.0
        if h.written is not None:
            return 1.0
        conf = float(self._average(h.frames).max()) if h.frames else 0.0
        ratio = conf / o.min_confidence if o.min_confidence > 0 else 1.0
        span = self._span(h.frames) / o.min_hold_s if o.min_hold_s > 0 else 1.0
        done = min(1.0, len(h.frames) / self._clock.frames(o.min_frames), span, ratio)
        return float(done * (0.99 if ratio >= 1 and not self._long_enough(h.frames) else 1.0))

    def _long_enough(self, frames: Sequence[_Frame]) -> bool:
        o = self.options
        return len(frames) >= self._clock.frames(o.min_frames) and self._span(frames) >= o.min_hold_s - 1e-6

    def _span(self, frames: Sequence[_Frame]) -> float:
        """First to last frame, plus what each frame lasts beyond a 30 fps frame: a hold then needs
        about the same time at any frame rate (4 frames at 30 fps, 2 at 15)."""
        return frames[-1].t - frames[0].t + self._clock.slack()

    # --- motion letters ---------------------------------------------------------------------------
    def _end_movement(self, t: float) -> Tuple[Optional[Hold], Optional[Hold]]:
        frames, self._movement = self._movement, []
        left_from, self._left_from = self._left_from, None
        if self._matcher is None or len(frames) < 3:
            return None, None
        points = np.stack([f.points for f in frames])
        probs = np.stack([f.probs for f in frames])
        result = self._matcher.match(points, probs, [f.t for f in frames])
        self._unmatched = (frames, left_from) if result is None else None
        if result is None or t - self._last_written < self.options.min_gap_s:
            return None, None
        top = ((result.letter, result.score),)
        hold = Hold(result.letter, result.score, top, frames[0].t, frames[-1].t, t, "motion")
        self._last_written = self._last_motion = t
        self._motion_shapes, self._last_end = SHAPE_LETTERS.get(result.letter, ()), hold.end
        retract = None
        if left_from is not None and left_from.letter in self._motion_shapes:
            retract = left_from
        return hold, retract

    def _resume_movement(self, t: float) -> None:
        """A movement that stopped for a frame or two (a Z's corner, at 15 fps) goes on: the frames
        of the one before come back, so that the matcher sees the whole path."""
        prev, self._unmatched = self._unmatched, None
        if prev is None or t - prev[0][-1].t > 3.5 * self._clock.interval or self._last_written > prev[0][-1].t:
            return
        frames, self._left_from = prev
        self._movement = frames + [f for f in self._movement if f.t > frames[-1].t]
