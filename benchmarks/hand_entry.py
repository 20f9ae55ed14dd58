"""How a word's first letter is read when the hand comes into view: in place, or rising from below.

    OMP_NUM_THREADS=1 python benchmarks/hand_entry.py [--entries 0 0.4 0.7] [--json F]
    OMP_NUM_THREADS=1 python benchmarks/hand_entry.py --sentences [--gaps 0 0.3 0.6] [--pause-only] [--json F]

Every film of the word benchmark starts with the hand appearing in place and moving a little to
where it holds the first letter (a video that starts as the hand settles); a person in front of a
camera more often raises the hand into view. Each of 10 signers (mon95 users 3-7, photo 1 of each
letter, photo 5 where photo 1 shows another hand shape, user_5's Y: data/exceptions.py; massey
hand1-5, its first photo) spells 7 of 14 words (first letters of every kind,
double letters at the start, J and Z first) in a 640x480 video at 1.0 s a letter
(``reading.photovideo``, mp4v), the hand appearing in place (``--entries 0``) or rising into view
from below the frame in 0.4 or 0.7 s, and the video is read as ``run`` reads it (the shipped model:
this measures how the start is read, not how well unseen signers are; a letter misread is
misread in every column). Words right as spelled, and how many had their first letter written twice
or lost.

``--sentences``: two words in one video, the hand lowered out of view after the first (in 0.4 s),
kept out of view for a gap of 0, 0.3 or 0.6 s, and raised again for the second (in 0.4 s); 27 pairs
of the same signers. Right when the video reads as the two words, each as spelled: the hand back in
view after ``ReaderOptions.away_s`` out of it (``left_view_s`` when it went out across an edge)
starts a new word; ``--pause-only`` turns both off, as the reader was before 2026-12-06, when only
``pause_s`` (the hand gone a whole second) ended a word (``results/hand_entry_sentences.md``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine, write_results  # noqa: E402
from phone_files import spelled  # noqa: E402

WORDS = ("HELLO", "BOX", "BOOK", "WAVY", "PAGE", "COFFEE", "HAPPY", "OOPS", "QUICK", "WORLD", "SMALL", "LLAMA",
         "JOY", "ZERO")
SIGNERS = tuple(f"mon95/user_{i}" for i in range(3, 8)) + tuple(f"massey/hand{i}" for i in range(1, 6))


def photo_file(root: Path, signer: str, letter: str):
    src, who = signer.split("/")
    if src == "mon95":  # photo 1, or the next one where photo 1 shows another hand shape (data/exceptions.py)
        from fingerspell.data.exceptions import exception_for

        files = (root / "mon95" / who / f"{letter}{i}.jpg" for i in (1, 5, 6, 7, 8, 9))
        return next((f for f in files if f.is_file() and not exception_for("mon95", letter, path=str(f))), None)
    files = sorted((root / "massey" / letter.lower()).glob(f"{who}_*_bot_seg_*"))
    return files[0] if files else None


def shots(det, root: Path, signer: str, word: str):
    from fingerspell.data.exceptions import MOTION_LETTER_SHAPES
    from fingerspell.hands.detector import load_image
    from fingerspell.reading.photovideo import photo_of_hand

    out = {}
    for letter in sorted({MOTION_LETTER_SHAPES.get(c, c) for c in word}):
        f = photo_file(root, signer, letter)
        hands = det.detect(load_image(f)) if f is not None else []
        if not hands:
            return None
        out[letter] = photo_of_hand(load_image(f), hands[0].landmarks)
    return out


def kind(word: str, read: str) -> str:
    if read == word:
        return "right"
    if read == word[0] + word:
        return "first letter twice"
    if read == word[1:]:
        return "first letter lost"
    return "other"


PAIRS = (("HELLO", "WORLD"), ("BOX", "JOY"), ("QUICK", "ZERO"), ("PAGE", "SMALL"), ("WAVY", "BOOK"),
         ("COFFEE", "HAPPY"))


def sentences(reader, det, root: Path, gaps, tmp: Path, json_path: str, pause_only: bool = False) -> None:
    """Two words a video, the hand lowered out of view between them for each gap (seconds);
    ``pause_only``: the hand coming back never ends a word (only the 1 s pause does)."""
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_word_frames, write_video
    from fingerspell.reading.reader import ReaderOptions
    from fingerspell.runtime.recognizer import RecognizerOptions
    from fingerspell.runtime.word_learning import LearnOptions

    reading = ReaderOptions(away_s=0.0, left_view_s=0.0) if pause_only else ReaderOptions()
    opts = RecognizerOptions(learning=LearnOptions(background=False), reader=reading)
    rules = "pause only" if pause_only else f"away_s {reading.away_s}, left_view_s {reading.left_view_s}"

    rows = []
    for k, signer in enumerate(SIGNERS):
        for j, (a, b) in enumerate(PAIRS):
            if (j + k) % 2:
                continue
            pa, pb = shots(det, root, signer, a), shots(det, root, signer, b)
            if pa is None or pb is None:
                continue
            row = {"signer": signer, "words": f"{a} {b}", "read": {}}
            for g in gaps:
                rng = np.random.default_rng(100 * k + j)
                first, _ = photo_word_frames(a, pa, rng, PhotoVideoOptions(entry_s=0.4, exit_s=0.4, lead_out_s=g))
                second, _ = photo_word_frames(b, pb, rng, PhotoVideoOptions(entry_s=0.4, exit_s=0.4, lead_in_s=0.0))
                path = tmp / f"{k}_{a}_{g}.mp4"
                write_video(first + second, path)
                row["read"][str(g)] = spelled(reader, path, options=opts)
                path.unlink()
            rows.append(row)
            print(signer, row["words"], list(row["read"].values()), flush=True)
    lines = [f"Two words in one video, the hand lowered out of view between them ({len(rows)} pairs of 10 "
             f"signers at 1.0 s a letter; {rules}; {machine()})", "",
             "| out of view between the words (s, besides 0.4 s down and 0.4 s up) | read as the two words |",
             "|---|---|"]
    summary = {}
    for g in gaps:
        summary[str(g)] = sum(r["read"][str(g)] == r["words"] for r in rows)
        lines.append(f"| {g} | {summary[str(g)]} of {len(rows)} |")
    lines += ["", "Pairs read wrong in any column:"]
    lines += [f"* {r['signer']} {r['words']}: " + " / ".join(r["read"].values())
              for r in rows if any(v != r["words"] for v in r["read"].values())] or ["* none"]
    write_results(json_path, {"machine": machine(), "rules": rules, "summary": summary, "rows": rows},
                  "\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=float, nargs="+", default=[0.0, 0.4, 0.7],
                    help="seconds the hand takes to rise into view (0: it appears in place)")
    ap.add_argument("--sentences", action="store_true",
                    help="two words a video, the hand lowered out of view between them")
    ap.add_argument("--gaps", type=float, nargs="+", default=[0.0, 0.3, 0.6],
                    help="with --sentences: seconds the hand stays out of view between the words")
    ap.add_argument("--pause-only", action="store_true",
                    help="with --sentences: only the 1 s pause ends a word (the reader before 2026-12-06)")
    ap.add_argument("--json", default=None, help="results file (default results/hand_entry[_sentences].json)")
    args = ap.parse_args()
    results = Path(__file__).resolve().parent / "results"
    args.json = args.json or str(results / ("hand_entry_sentences.json" if args.sentences else "hand_entry.json"))
    import fingerspell
    from fingerspell.hands.detector import HandDetector
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_word_frames, write_video

    root = data_root()
    rows, skipped = [], []
    with fingerspell.load() as reader, HandDetector(mode="image", max_hands=1) as det, \
            tempfile.TemporaryDirectory() as tmp:
        if args.sentences:
            return sentences(reader, det, root, args.gaps, Path(tmp), args.json, args.pause_only)
        for k, signer in enumerate(SIGNERS):
            for j, word in enumerate(WORDS):
                if (j + k) % 2:
                    continue
                photos = shots(det, root, signer, word)
                if photos is None:
                    skipped.append(f"{signer} {word}")
                    continue
                row = {"signer": signer, "word": word, "read": {}}
                for e in args.entries:
                    frames, _ = photo_word_frames(word, photos, np.random.default_rng(100 * k + j),
                                                  PhotoVideoOptions(entry_s=e))
                    path = Path(tmp) / f"{k}_{word}_{e}.mp4"
                    write_video(frames, path)
                    row["read"][str(e)] = spelled(reader, path)
                    path.unlink()
                rows.append(row)
                print(signer, word, list(row["read"].values()), flush=True)
    names = {str(e): ("appears in place" if e == 0 else f"rises into view in {e} s") for e in args.entries}
    lines = [f"The hand coming into view ({len(rows)} words of 10 signers at 1.0 s a letter; {machine()})", "",
             "| the hand | words right | first letter twice | first letter lost | other errors |",
             "|---|---|---|---|---|"]
    summary = {}
    for e, name in names.items():
        kinds = [kind(r["word"], r["read"][e]) for r in rows]
        summary[name] = {k: kinds.count(k) for k in ("right", "first letter twice", "first letter lost", "other")}
        c = summary[name]
        lines.append(f"| {name} | {c['right']} of {len(rows)} | {c['first letter twice']} | "
                     f"{c['first letter lost']} | {c['other']} |")
    lines += ["", "Words read wrong in any column (" + " / ".join(names.values()) + "):"]
    lines += [f"* {r['signer']} {r['word']}: " + " / ".join(r["read"].values())
              for r in rows if any(v != r["word"] for v in r["read"].values())] or ["* none"]
    if skipped:
        lines += ["", f"Left out (a letter's photo missing or no hand found): {', '.join(skipped)}"]
    write_results(args.json, {"machine": machine(), "summary": summary, "rows": rows, "skipped": skipped},
                  "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
