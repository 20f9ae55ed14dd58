"""Which hand is spelling, when more than one is in view.

A person fingerspells with one hand raised; the other often rests in view (on the desk, at the
bottom of the picture). Without care:

* tracking one hand (``--max-hands 1``, the default), MediaPipe keeps the first hand it finds and
  looks for no other while it has it: a resting hand seen first hides the spelling hand for good,
  and when the spelling hand drops out of view the tracker takes the resting one, whose shape is
  then written as a letter;
* tracking several, the first hand seen became the writer and stayed it.

:class:`SigningHand` watches the writer:

* **a still writer is passed over**: once the writer has been still for ``idle_s`` writing nothing
  but a still letter, the hands elsewhere are looked for (tracking one hand: a separate MediaPipe
  graph in image mode on the frame with the writer's region filled, 50-90 ms on 2 cores, every
  ``look_every_s``, less often once the writer has moved; live, on a worker thread:
  :meth:`SigningHand.look_in_background`). A hand held clearly higher (by
  ``higher`` of the frame's height) is the one spelling: with several tracked it becomes the
  writer; with one, the still hand's region is hidden from the tracker (filled with the frame's
  median colour), which loses it and finds the other. The letters the still hand wrote into the
  word being spelled are taken back. The tracker's palm detector, with its higher threshold, may
  not find a still hand the look found: until it does (at most ``stand_in_s``), the look's detector
  reads that hand on the frames where the tracker finds none (:meth:`SigningHand.stand_in`).
* **resting places**: while the writer spells (it has moved), the hands lower than it are where
  hands rest (tracking one hand, a look every ``survey_every_s`` at the whole frame and at its
  lower 60% in two overlapping halves: at the whole frame's scale the palm detector misses a small
  fist in a corner, which it finds in a half). A hand that comes to be the
  writer there, without having moved, is hidden or set aside at once, before it writes; it may
  write once it moves.
* **a hidden hand is followed**: every ``follow_every_s`` its region is looked at alone; the
  region follows the hand and is shown again when the hand has gone, has moved while nobody else
  spells, or is raised (it rose) to the writer's height.

* **a small false hand**: a "hand" under ``min_size`` of the largest one's size (an ear the palm
  detector found at 0.5) never becomes the writer while a larger hand is in view, and a look's
  "hand" under ``min_size`` of the writer's size never passes the writer over.

A hand that moves is never passed over, and a lone hand is read as before: these looks find
nothing to change. ``benchmarks/two_hands.py`` measures it on videos of real photos.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.hands.landmarks import box_overlap
from fingerspell.runtime.background import Background
from fingerspell.runtime.frame_boxes import Box
from fingerspell.runtime.frame_boxes import box_side as _side
from fingerspell.runtime.frame_boxes import centre_y as _centre_y
from fingerspell.runtime.frame_boxes import filled as _filled
from fingerspell.runtime.frame_boxes import grown as _grown
from fingerspell.runtime.frame_boxes import median_colour as _median_colour
from fingerspell.runtime.frame_boxes import moved as _moved


@dataclass(frozen=True)
class SigningHandOptions:
    enabled: bool = True
    idle_s: float = 1.0  # the writer still this long, writing nothing: look for another hand
    look_every_s: float = 0.5  # at most one look at the whole frame this often while the writer is still
    max_wait_s: float = 4.0  # after a look that finds no higher hand the wait doubles, up to this
    follow_every_s: float = 2.0  # while a hand is hidden: look again this often
    survey_every_s: float = 1.5  # while the writer spells: look this often for hands resting below it
    places_keep_s: float = 10.0  # where hands rested is forgotten after this long without a look
    higher: float = 0.1  # another hand's centre at least this much higher (fraction of the frame's height)
    grow: float = 0.3  # a hidden hand's box grown by this fraction of its side on each side
    min_confidence: float = 0.5  # the look's palm detector
    stand_in_s: float = 1.0  # after a pass-over, the look reads the new hand until the tracker has it
    min_size: float = 0.4  # a hand this much smaller than the largest in view (side) never becomes the writer


class SigningHand:
    """Picks the writing hand among those found and, with one hand tracked, hides a resting hand
    from the tracker. ``look`` (frame -> hand boxes) finds the hands in a frame; by default a
    MediaPipe graph in image mode, made on first use. ``max_hands``: the tracker's."""

    def __init__(self, options: Optional[SigningHandOptions] = None,
                 look: Optional[Callable[[np.ndarray], List[Box]]] = None, max_hands: int = 1) -> None:
        self.options = options or SigningHandOptions()
        self.max_hands = max_hands
        self._look_fn = look
        self._detector = None
        self._detect_lock = threading.Lock()  # the look's graph: from a background look and stand_in
        self._background: Optional[Background] = None  # looks beside the reading (look_in_background)
        self._generation = 0  # counts writers: a background look's answer is for the writer that asked
        self.looks = 0  # looks at the frame (a survey's look is the whole frame and its lower halves)
        self.reset()

    def reset(self) -> None:
        self.writer: Optional[int] = None  # the writing hand's track id
        self.hidden: Optional[Box] = None  # a resting hand's region, hidden from the tracker
        self._hidden_hand: Optional[Box] = None  # that hand's box when it was hidden
        self._fill: Optional[np.ndarray] = None  # the colour it is filled with
        self._resting: Dict[int, Box] = {}  # tracks passed over, with their box then
        self._twins: set = set()  # other tracks seen on the writer's hand (reset by _new_writer)
        self.places: List[Box] = []  # where other hands rested while the writer spelled
        self._places_t = float("-inf")
        self._active = self._looked = float("-inf")  # when the writer last moved or wrote; last look
        self._wait = self.options.look_every_s
        self._new_writer()
        self._last_box: Optional[Box] = None
        self._letters_since_active = 0
        self._coming: Optional[Tuple[Box, float]] = None  # the higher hand a look found, and until when

    # --- the frame the tracker sees --------------------------------------------------------
    def frame_for_detection(self, frame: np.ndarray) -> np.ndarray:
        if self.hidden is None:
            return frame
        if self._fill is None:  # once per hidden region, not per frame (0.5 ms)
            self._fill = _median_colour(frame)
        return _filled(frame, self.hidden, self._fill)

    def stand_in(self, seen: np.ndarray, t: float) -> list:
        """Hands for a frame (``seen``: as :meth:`frame_for_detection` gave it to the tracker) where
        the tracker found none, right after a pass-over: the look's
        detector (image mode, a lower detection threshold) reads the higher hand it found until the
        tracker has it (at most ``stand_in_s``). The tracker's palm detector may not find a still
        hand that came up while it followed the resting one: the first letter would be lost."""
        if self._coming is None or self._look_fn is not None:
            return []
        box, until = self._coming
        if t > until or self.hidden is None:
            self._coming = None
            return []
        self.looks += 1
        hands = [h for h in self._detect(seen) if box_overlap(h.box, box) > 0.3]
        if not hands:
            return []
        hand = max(hands, key=lambda h: box_overlap(h.box, box))
        self._coming = (hand.box, until)
        return [hand]

    # --- the writer ---------------------------------------------------------------------------
    def pick(self, predictions: Sequence, alive: Callable[[int], bool]) -> Tuple[Optional[object], bool]:
        """(the writer's prediction or None, whether the writer changed). The writer stays while it
        is in the frame; when its track is lost, another track seen on its hand goes on as the same
        hand; while it is briefly lost (its track alive) nobody writes; else the hand
        held highest takes over, unless it rests where a hand rested while the writer spelled (so
        does a writer whose track jumped there: the single tracker, losing one hand, took another)."""
        by_id = {p.track_id: p for p in predictions}
        if self.writer in by_id:
            p = by_id[self.writer]
            jumped = self._last_box is not None and _moved(self._last_box, p.hand.box, 0.5)
            if jumped and self._rests(p, jumped=True):
                return None, False
            self._last_box = p.hand.box
            # a second track on the writer's hand (the tracker found it twice) that may outlive its own
            self._twins = {q.track_id for q in predictions if q.track_id != self.writer
                           and (q.track_id in self._twins or box_overlap(q.hand.box, p.hand.box) > 0.5)}
            return p, False
        twin = next((by_id[i] for i in sorted(self._twins) if i in by_id), None) if self.writer is not None else None
        self._twins = set()
        if twin is not None:  # the writer's track lost, its twin goes on: the same hand, whose hold goes on
            self.writer, self._last_box = twin.track_id, twin.hand.box
            return twin, False
        if self.writer is not None and alive(self.writer):
            return None, False  # a dropout, not a change of hands
        for i in [i for i, box in self._resting.items() if i in by_id and _moved(box, by_id[i].hand.box)]:
            del self._resting[i]  # a passed-over hand that moved may spell now
        self.writer = None
        for p in sorted((p for p in predictions if p.track_id not in self._resting and self._plausible(p, predictions)),
                        key=lambda p: (_centre_y(p.hand.box), p.track_id)):
            if not self._rests(p):
                # found again where the writer last was (its track lost to a second box on it, say):
                # the same hand, whose hold goes on
                same = self._last_box is not None and box_overlap(p.hand.box, self._last_box) > 0.5
                if not same:
                    self._new_writer()
                self.writer, self._last_box = p.track_id, p.hand.box
                return p, not same
            if self.max_hands == 1:
                break
        self._new_writer()
        return None, False

    def _plausible(self, p, predictions: Sequence) -> bool:
        """One person's hands are about the same size in the picture: a "hand" a fraction of the
        largest one's size is a false detection (an ear, a knuckle at the palm detector's 0.5)."""
        if not self.options.enabled or len(predictions) < 2:
            return True
        side = max(_side(q.hand.box) for q in predictions)
        return _side(p.hand.box) >= self.options.min_size * side

    def _rests(self, p, jumped: bool = False) -> bool:
        """Whether the hand rests where a hand rested while the writer spelled; if so it is hidden
        from the single tracker, or set aside among several."""
        if not (self.options.enabled and any(box_overlap(p.hand.box, b) > 0.5 for b in self.places)):
            return False
        if not jumped and self._last_box is not None and box_overlap(p.hand.box, self._last_box) > 0.3:
            return False  # where the writer last was: the writer found again
        if self.max_hands == 1:
            self._hide(p.hand.box, p.hand.image_size)
        else:
            self._resting[p.track_id] = p.hand.box
            self.writer = None if self.writer == p.track_id else self.writer
        return True

    def observe(self, t: float, frame: np.ndarray, predictions: Sequence, writer, update) -> bool:
        """After a frame is read: True when the writer was passed over for another hand (the caller
        starts its holds again and takes back :meth:`letters_to_take_back`)."""
        o = self.options
        moved = update.state == "moving" or (update.hold is not None and update.hold.kind != "static")
        if writer is None or moved:  # writing a still letter is not moving: a resting hand may read as one
            self._active = t
        if writer is not None and not self._writer_moved:  # moved since it came into view (the reader
            self._since = t if self._since is None else self._since  # says "moving" as it starts: not that)
            self._first_box = self._first_box or writer.hand.box
            self._moving_frames += int(update.state == "moving" and t - self._since > 0.2)
            self._writer_moved = self._moving_frames >= 3 or _moved(self._first_box, writer.hand.box, 0.25)
        if update.hold is not None:
            self._letters_since_active += 1
        if moved or update.word is not None:
            self._letters_since_active = 0
        if not o.enabled:
            return False
        if t - self._places_t > o.places_keep_s:
            self.places = []
        if self.hidden is not None:
            if t - self._looked >= o.follow_every_s:
                self._looked, self.looks = t, self.looks + 1
                self._follow_hidden(frame, writer)
            return False
        if writer is None:
            return False
        idle = not self._writer_moved or t - self._active >= o.idle_s  # one that never moved: at once
        others = [p for p in predictions if p.track_id != writer.track_id]
        boxes = self._other_hands(t, frame, others, writer, idle)
        if boxes is None:
            return False
        mine = _centre_y(writer.hand.box)
        if self._writer_moved:  # a hand that spells: the lower hands beside it rest there
            self.places, self._places_t = [b for b in boxes if _centre_y(b) > mine], t
        higher = [b for b in boxes if _centre_y(b) < mine - o.higher * frame.shape[0]]
        if not idle:
            return False
        if not higher:
            if not others and self._writer_moved:  # a hand that never moved is looked at again soon
                self._wait = min(2 * self._wait, o.max_wait_s)
            return False
        self._active, self._wait = t, o.look_every_s
        self.places, self._places_t = [writer.hand.box], t
        if others:
            self._resting[writer.track_id] = writer.hand.box
            self.writer = min((p for p in others if p.hand.box in higher), key=lambda p: _centre_y(p.hand.box)).track_id
            self._last_box = None
        else:
            self._hide(writer.hand.box, (frame.shape[1], frame.shape[0]))
            self._coming = (min(higher, key=_centre_y), t + o.stand_in_s)
        self._new_writer()
        return True

    def look_in_background(self, on: bool = True) -> None:
        """Run the looks for other hands on a worker thread (a live camera or a browser's frames: a
        look stalls the reading 50-230 ms), their answer used when it comes; off (files, tests):
        on the frame that asks, so that a video reads the same on every machine."""
        if on and self._background is None:
            self._background = Background("fingerspell-look")
            if self.options.enabled and self._look_fn is None:  # the look's graph made now, not on a first letter
                self._background.submit("warm-up", lambda: self._detect(np.zeros((64, 64, 3), np.uint8)))
        elif not on and self._background is not None:
            self._background.close()
            self._background = None

    def _other_hands(self, t: float, frame: np.ndarray, others: Sequence, writer, idle: bool) -> Optional[List[Box]]:
        """The boxes of the other hands in view (None: no look due): several hands tracked, their
        boxes (not a second box on the writer); one, a look's, when one is due. A "hand" a fraction
        of the writer's size is no hand: a look found an ear at 0.5, and the one hand in view, still
        from its first frame, was hidden and the ear read (LLAMA as EEEE)."""
        o = self.options
        due = (idle and t - self._looked >= self._wait) or (self._writer_moved and t - self._looked >= o.survey_every_s)
        if others:
            boxes = [p.hand.box for p in others]
        elif self._background is not None:
            done, boxes = self._background.take(self._generation)
            if not done:
                if due and not self._background.busy:
                    self._background.submit(self._generation, self._survey(t, frame, writer))
                return None
        elif due:
            boxes = self._survey(t, frame, writer)()
        else:
            return None
        return [b for b in boxes if box_overlap(b, writer.hand.box) < 0.3
                and _side(b) >= o.min_size * _side(writer.hand.box)]

    def _survey(self, t: float, frame: np.ndarray, writer) -> Callable[[], List[Box]]:
        """A look at the frame with the writer's region hidden (so that the palm detector ranks the
        others) and, once the writer has spelled, at its lower halves; returned to be run."""
        self._looked, self.looks = t, self.looks + 1
        filled = _filled(frame, _grown(writer.hand.box, self.options.grow, (frame.shape[1], frame.shape[0])))
        below = self._writer_moved
        return lambda: self._look(filled) + (self._look_below(filled) if below else [])

    def _new_writer(self) -> None:
        self._generation += 1
        self._writer_moved, self._first_box, self._since, self._moving_frames = False, None, None, 0
        self._twins = set()

    def _hide(self, box: Box, size: Tuple[int, int]) -> None:
        self.hidden, self._hidden_hand, self.writer = _grown(box, self.options.grow, size), box, None
        self._fill = None
        self._last_box = None

    def _follow_hidden(self, frame: np.ndarray, writer) -> None:
        """Look at the hidden region alone (the palm detector may rank a hand in a corner below
        others): it follows the hand, and is shown again when the hand has gone, has moved while
        nobody else spells, or rises to the writer's height (not the writer coming down to it)."""
        size = (frame.shape[1], frame.shape[0])
        boxes = self._look_in(frame, _grown(self.hidden, 0.5, size))
        inside = [b for b in boxes if box_overlap(b, self.hidden) > 0.5]
        if not inside:
            self.hidden = None
            return
        box = max(inside, key=lambda b: box_overlap(b, self.hidden))
        side = max(self._hidden_hand[2] - self._hidden_hand[0], self._hidden_hand[3] - self._hidden_hand[1], 1)
        rose = _centre_y(self._hidden_hand) - _centre_y(box) > 0.25 * side  # not the writer come down to it
        level = writer is not None and _centre_y(box) < _centre_y(writer.hand.box) + self.options.higher * size[1]
        raised = rose and level
        if raised or (writer is None and _moved(self._hidden_hand, box, 0.25)):
            self.hidden = None
            self.places = [b for b in self.places if box_overlap(b, box) <= 0.5]
            return
        self.hidden, self._fill = _grown(box, self.options.grow, size), None

    def letters_to_take_back(self) -> int:
        """Letters the passed-over hand wrote since it last moved (asked right after a switch)."""
        n, self._letters_since_active = self._letters_since_active, 0
        return n

    def _look_in(self, frame: np.ndarray, region: Box) -> List[Box]:
        """The hands found in ``region`` of the frame alone, in frame pixels."""
        x0, y0, x1, y1 = region
        return [(b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0)
                for b in self._look(np.ascontiguousarray(frame[y0:y1, x0:x1]))]

    def _look_below(self, frame: np.ndarray) -> List[Box]:
        """The frame's lower 60%, in two overlapping halves: looking at the whole frame, the palm
        detector misses a small resting hand (a fist in a corner, a third of the frame high) that it
        finds at the scale of a half."""
        h, w = frame.shape[:2]
        found: List[Box] = []
        for x0, x1 in ((0, int(0.6 * w)), (int(0.4 * w), w)):
            found += [b for b in self._look_in(frame, (x0, int(0.4 * h), x1, h))
                      if all(box_overlap(b, f) <= 0.5 for f in found)]
        return found

    def _look(self, frame: np.ndarray) -> List[Box]:
        if self._look_fn is not None:
            return list(self._look_fn(frame))
        return [h.box for h in self._detect(frame)]

    def _detect(self, frame: np.ndarray) -> list:
        with self._detect_lock:
            if self._detector is None:
                from fingerspell.hands.detector import HandDetector

                self._detector = HandDetector(mode="image", max_hands=2, border_retry=False, refine_border=0.0,
                                              min_detection_confidence=self.options.min_confidence)
            return self._detector.detect(frame)

    def close(self) -> None:
        self.look_in_background(False)
        if self._detector is not None:
            self._detector.close()
            self._detector = None
