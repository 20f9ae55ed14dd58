"""Word benchmark: whole words fingerspelled at a natural pace by people the model never saw.

    OMP_NUM_THREADS=1 python benchmarks/words.py [--datasets mon95 massey] [--paces 2.0 1.0 0.5]
        [--reps 2] [--videos 4] [--epochs 40] [--seed 0] [--train-on signers|all] [--calibrate K] [--adapt]
        [--learn]

For each signer of mon95 (users 3-7) and massey (hand1-5), a landmark_mlp fold model is trained
on the other signers of that data set (the recipe of ``benchmarks/accuracy.py``; the fold models
are shared with ``benchmarks/calibration.py`` and cached in ``artifacts/calibration/folds``).
Then words that together cover every letter, double letters, J and Z are spelled with that
signer's own hand shapes:

* **simulated** (every word, every pace): :func:`fingerspell.reading.synth.synth_word` moves the
  signer's real landmarks from letter to letter at 2.0, 1.0 and 0.5 s per letter at 30 fps (``--fps``),
  with interpolated transitions, tremor and detection dropouts; J and Z are drawn as paths; each
  photo's second reading (MediaPipe on the mirrored photo) moves with it and is read too, as the
  recognizer reads both (``--no-second-look``: the first only);
* **real video** (``--videos`` words per signer at 1.0 s per letter, ``--video-pace``): the signer's photos are
  moved along the same kind of paths on a 640x480 canvas (:func:`photo_path_frames`), written
  as an mp4v video (at ``--fps``) and read back, so MediaPipe runs on real pixels end to end.

With ``--learn`` the reader learns each signer from the words it decodes, as ``fingerspell live``
does by default (:mod:`fingerspell.runtime.word_learning`; after each simulated word, each pace
starting afresh; video words are read without it). With ``--adapt`` the reader adapts to each
signer from their first 20 written letters, as ``fingerspell live --adapt`` does
(:mod:`fingerspell.runtime.adaptation`, no labels; simulated words: the model is updated after each
word, and each pace starts unadapted; each video word is read by a fresh recognizer, so videos are
read unadapted). Both go through the product's own reader
(:class:`fingerspell.reading.reader.Reader`, or the
whole :class:`~fingerspell.runtime.recognizer.Recognizer` for videos) with the English word
decoder. Reported per pace: raw word accuracy (letters as written), decoded word accuracy,
letter error rate (edit distance / letters), J/Z recall, J or Z written for still D/I, the time
from a hold's start to its letter, correct words the decoder made wrong, and spelled non-words
(names, codes) it changed. mon95 has no ASL T (its T is another hand shape) and no J or Z
photos: its signers spell the words without a T; J is drawn with their I and Z with their D.

``--train-on all`` trains each fold on every data set less the signer (as the shipped model trains);
``--calibrate K`` first gives each signer a profile from K of their photos per letter (the product's
default calibration) and spells the words with their other photos (simulated words only; mon95's
profile comes from one recording session and its words from the other, since the photos of one
session are near-identical frames).

Writes ``benchmarks/results/words.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, add_lift_blur, machine, use_lift_blur, write_results  # noqa: E402
from holds_sim import edit_distance, latencies  # noqa: E402
from words_video import video_word  # noqa: E402

from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.hands.landmarks import Hand, landmark_box  # noqa: E402
from fingerspell.reading.holds import FrameReading  # noqa: E402
from fingerspell.reading.reader import Reader  # noqa: E402
from fingerspell.reading.synth import LetterBank, SynthOptions, synth_word  # noqa: E402
from fingerspell.training.hand_crop import crops_by_path  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
# Every letter, double letters (LL, OO, EE, ZZ, PP, FF, DD), J and Z, common and less common words.
WORDS = ("HELLO", "BOOK", "JAZZ", "QUIZ", "JUMP", "PIZZA", "FIXED", "WAVY", "GLYPH", "KNOCK",
         "TREE", "SKIRT", "BOX", "ZERO", "JOY", "ADD", "BUZZ", "JELLY", "GREAT", "THIRD",
         "COFFEE", "SQUARE", "WORLD", "HAPPY", "MOVIE", "BLACK", "EXTRA", "QUEEN", "ZONE", "DOG")
# Names, codes and random strings: the decoder must leave them as spelled.
NONWORDS = ("QXJ", "KIRA", "ZDRV", "BLIXO", "MAVEK", "YUNG", "PHUOC", "XKCD")


def spellable(words: Sequence[str], bank: LetterBank) -> List[str]:
    """The words whose letters the signer has shapes for (J from I, Z from Z or D)."""
    have = set(bank.shapes)
    need = {"J": "I", "Z": "Z" if "Z" in have else "D"}
    return [w for w in words if all(need.get(c, c) in have for c in w)]


class FoldReader:
    """The fold model on simulated frames, through the product's Reader."""

    def __init__(self, checkpoint: Path, decoder, adapt: bool = False, learn=False, second_look: bool = True,
                 crop_model=None, crops=None) -> None:
        from fingerspell.features import input_for
        from fingerspell.runtime.adaptation import PersonAdaptation
        from fingerspell.runtime.classifier import load_classifier
        from fingerspell.runtime.word_learning import LearnOptions, WordLearning

        self.clf, self.card = load_classifier(checkpoint)
        self.input = input_for(self.card)
        self.decoder = decoder
        self.adaptation = PersonAdaptation(self.clf) if adapt else None
        # benchmarks/word_learning.py: learns from each word read while ``frozen`` is False
        opts = learn if isinstance(learn, LearnOptions) else LearnOptions(background=False)
        self.learning = WordLearning(self.clf, decoder, opts) if learn else None
        self.frozen = False
        self.pick = False  # the person picks their word from the suggestions when it is offered (pick_word)
        self.second_look = second_look  # read each frame's second reading too, as the recognizer does
        # a hand-crop model and {photo path: crop}: a held letter's frames are read with its photo's pixels
        self.crop_model, self.crops, self._pixels = crop_model, crops, {}

    def with_pixels(self, sw, probs: dict) -> dict:
        """``probs`` {frame: reading} with each held frame's reading fused with the hand-crop model's
        reading of its photo, as the recognizer fuses a frame's (a sure reading is kept)."""
        from fingerspell.models.hand_crop import is_sure

        if self.crop_model is None or not sw.photos:
            return probs
        out = dict(probs)
        for i, p in probs.items():
            path = sw.photos[i]
            if path is None or is_sure(p):
                continue
            if path not in self._pixels:
                self._pixels[path] = self.crop_model.predict_crops(self.crops[path][None])[0]
            out[i] = self.crop_model.fuse(p, self._pixels[path], tuple(self.card["classes"]))
        return out

    def read(self, sw) -> dict:
        reader = Reader(self.card["classes"], decoder=self.decoder)
        rows = [i for i, (_, lm) in enumerate(sw.frames) if lm is not None]
        seconds = sw.seconds if self.second_look and sw.seconds else (None,) * len(sw.frames)
        hands = [Hand(sw.frames[i][1], sw.handedness, 1.0, landmark_box(sw.frames[i][1], sw.image_size),
                      sw.image_size, second_landmarks=seconds[i]) for i in rows]
        batch = self.input.batch_for_hands(hands) if rows else None
        model = self.adaptation or self.learning or self.clf
        picked = self.input.pick(model.predict_proba(batch), len(hands)) if rows else []
        probs = self.with_pixels(sw, {i: p for i, (p, _) in zip(rows, picked)})
        holds = []
        for i, (t, lm) in enumerate(sw.frames):
            up = reader.update(FrameReading(t, lm, sw.image_size, probs.get(i)))
            if up.hold is not None:
                holds.append(up.hold)
                if self.pick and pick_word(reader.sentence, sw.word, t):
                    break  # the word is written: the person stops spelling it
        reader.finish(sw.frames[-1][0] if sw.frames else 0.0)
        if self.adaptation is not None and rows:  # the person's letters, for the next words
            times = np.array([sw.frames[i][0] for i in rows])
            firsts = batch[:: len(batch) // len(hands)]  # each hand's first row (VectorInput.hand_row)
            for h in holds:
                if h.kind == "static" and len(h.letter) == 1:
                    self.adaptation.add(firsts[(times >= h.start) & (times <= h.end)])
        if self.learning is not None and not self.frozen and rows:  # as the recognizer feeds it
            for k, i in enumerate(rows):
                self.learning.add_frame(sw.frames[i][0], self.input.hand_row(batch, len(hands), k))
            for w in reader.sentence.words:
                self.learning.on_word(w, reader.sentence.words)
        return outcome(sw.word, reader.sentence.words, holds, sw.truth)


def outcome(truth: str, words, holds, truth_spans) -> dict:
    """One spelled word: raw (letters as written) and decoded, with the hold latencies."""
    # a word the reader split in two (a pause, a hand lost and found again) is a wrong word
    raw = " ".join(w.spelled for w in words)
    decoded = " ".join(w.word for w in words)
    return {"truth": truth, "raw": raw, "decoded": decoded, "latency": latencies(truth_spans, holds),
            "motion_hits": sum(1 for h in holds if h.kind == "motion"),
            "picked": any(w.source == "suggestion" for w in words)}


def pick_word(sentence, truth: str, t: float) -> bool:
    """A person in the loop: once a letter is written wrong, they pick their word from the
    suggestions (keys 1-3) if it is there; True when they did."""
    current = sentence.current
    if not current or truth.startswith(current):
        return False
    for i, (word, _) in enumerate(sentence.suggestions, 1):
        if word == truth:
            return sentence.pick_suggestion(i, t) is not None
    return False


def video_words(words: Sequence[str], n: int, rng) -> List[str]:
    """Half motion-letter words (J, Z, with doubles), half others, picked at random."""
    motion = [w for w in words if set(w) & set("JZ")]
    other = [w for w in words if w not in motion]
    k = min(len(motion), (n + 1) // 2)
    picks = list(rng.choice(motion, size=k, replace=False)) if k else []
    return picks + list(rng.choice(other, size=min(len(other), n - k), replace=False))


def edit_ops(truth: str, got: str) -> tuple:
    """(substituted, lost, extra) letters of one cheapest edit turning ``truth`` into ``got``: a
    misread letter, a letter never written, a letter written that was not signed."""
    best = [[(j, 0, 0, j) for j in range(len(got) + 1)]]
    for i, x in enumerate(truth, 1):
        row = [(i, 0, i, 0)]
        for j, y in enumerate(got, 1):
            d, s, lo, ex = best[i - 1][j - 1]
            row.append(min((d + (x != y), s + (x != y), lo, ex),
                           (best[i - 1][j][0] + 1, best[i - 1][j][1], best[i - 1][j][2] + 1, best[i - 1][j][3]),
                           (row[j - 1][0] + 1, row[j - 1][1], row[j - 1][2], row[j - 1][3] + 1)))
        best.append(row)
    return best[-1][-1][1:]


def summarize(rows: List[dict]) -> dict:
    """Figures over many spelled words."""
    if not rows:
        return {}
    n = len(rows)
    letters = sum(len(r["truth"]) for r in rows)
    raw_ok = [r["raw"] == r["truth"] for r in rows]
    dec_ok = [r["decoded"] == r["truth"] for r in rows]
    jz = [(r["truth"].count(c), min(r["truth"].count(c), r["decoded"].count(c), r["raw"].count(c)))
          for r in rows for c in "JZ"]
    lat = [x for r in rows for x in r["latency"]]
    broke = sum(1 for a, b in zip(raw_ok, dec_ok) if a and not b)
    ops = np.sum([edit_ops(r["truth"], r["raw"]) for r in rows], axis=0)
    return {"words": n, "raw_accuracy": float(np.mean(raw_ok)), "decoded_accuracy": float(np.mean(dec_ok)),
            "raw_ler": sum(edit_distance(r["raw"], r["truth"]) for r in rows) / letters,
            "decoded_ler": sum(edit_distance(r["decoded"], r["truth"]) for r in rows) / letters,
            "jz_recall": sum(h for _, h in jz) / sum(t for t, _ in jz) if sum(t for t, _ in jz) else None,
            "correct_made_wrong": broke / max(1, sum(raw_ok)),
            "latency_median_ms": 1000 * float(np.median(lat)) if lat else None,
            "latency_p90_ms": 1000 * float(np.percentile(lat, 90)) if lat else None,
            # what the letters written got wrong: misread, never written (lost), written unsigned (extra)
            "raw_edits": dict(zip(("substituted", "lost", "extra"), map(int, ops))),
            "wrong": [f"{r['truth']}->{r['raw']}/{r['decoded']}" for r in rows if r["decoded"] != r["truth"]][:15],
            "wrong_as_spelled": [f"{r['truth']}->{r['raw']}" for r in rows if r["raw"] != r["truth"]]}


def still_false_jz(fold: FoldReader, bank: LetterBank, rng, reps: int) -> tuple:
    """Still D and I holds (with slides and releases): J or Z written out of them."""
    false = n = 0
    for r in range(reps):
        for w in ("DIDI", "IDDI", "DII", "IDI"):
            sw = synth_word(w, bank, SynthOptions(pace=(1.0, 0.5)[r % 2], mirror=bool(r % 3 == 0)), rng)
            got = fold.read(sw)["raw"]
            false += sum(c in "JZ" for c in got)
            n += len(w)
    return false, n


def calibrate(fold: FoldReader, ckpt: Path, letters, group: str, k: int, bench_cal, rng):
    """Give ``fold`` a profile (the default method) from k photos per still letter of ``group``
    (as ``benchmarks/calibration.py`` draws them); return ``letters`` without those photos."""
    from fingerspell.reading import calibration as cal
    from fingerspell.training.data import model_inputs

    rows = np.flatnonzero((letters.groups == group) & np.isin(letters.labels, bench_cal.STATIC))
    name = group.split("/")[0]  # mon95: calibrated in one recording session, spelled with the other's photos
    split = bench_cal.draw(letters.labels[rows], k, rng, bench_cal.sessions_of(name, letters.paths[rows], "session"))
    if split is None:
        raise SystemExit(f"{group} has a letter with {k} photos or fewer: use a smaller --calibrate")
    picked = rows[split[0]]
    x = model_inputs(letters.subset(picked), fold.clf.input_kind)
    profile = cal.fit_profile(fold.clf, x, letters.labels[picked], cal.model_identity(ckpt))
    fold.clf = cal.ProfiledClassifier(fold.clf, profile)
    keep = np.ones(len(letters.labels), bool)
    keep[rows] = False
    keep[rows[split[1]]] = True  # the photos left to spell with: massey's others, mon95's other session
    return letters.subset(keep)


def run_signer(name: str, data, group: str, args, decoder, bench_cal) -> Dict[str, list]:
    letters = bench_cal.letters_of(name, data)
    ckpt = bench_cal.fold_model(name, letters, group, args.epochs, args.seed,
                                bench_cal.other_sets(name, args.data_dir, args.train_on))
    # --pixels: a hand-crop model trained on the fold model's photos reads the held letters' photos
    # and the videos' pixels too
    crop = bench_cal.crop_fold_model(name, letters, group, args.seed, bench_cal.other_sets(
        name, args.data_dir, args.train_on), args.data_dir) if args.pixels else None
    fold = FoldReader(ckpt, decoder, adapt=args.adapt, learn=args.learn, second_look=args.second_look,
                      crop_model=crop, crops=crops_by_path([Path(args.data_dir) / f"{name}.npz"]) if crop else None)
    if args.calibrate:  # the signer's profile from k photos a letter; the words are spelled with the others
        letters = calibrate(fold, ckpt, letters, group, args.calibrate, bench_cal, np.random.default_rng(args.seed))
    bank = LetterBank.from_dataset(letters, groups=[group])
    words, nonwords = spellable(WORDS, bank), spellable(NONWORDS, bank)
    rng = np.random.default_rng(args.seed)
    out: Dict[str, list] = {}
    for pace in args.paces:
        for person in (fold.adaptation, fold.learning):
            if person is not None:
                person.reset()  # each pace starts with a person the model has not adapted to
        rows = []
        for r in range(args.reps):
            for w in words:
                sw = synth_word(w, bank, SynthOptions(pace=pace, fps=args.fps, mirror=bool(r % 2)), rng)
                rows.append(fold.read(sw))
        out[f"sim {pace}"] = rows
    out["nonwords"] = [fold.read(synth_word(w, bank, SynthOptions(pace=1.0, mirror=bool(r % 2)), rng))
                       for r in range(args.reps) for w in nonwords]
    out["still_dj"] = [list(still_false_jz(fold, bank, rng, args.reps))]
    if args.videos and not args.calibrate:
        out[f"video {args.video_pace}"] = [
            video_word(w, letters, group, ckpt, decoder, rng, pace=args.video_pace, fps=args.fps,
                       signing_hand=args.signing_hand, dim=args.dim, lift=args.lift,
                       codec=args.codec, crop_model=crop)
            for w in video_words(words, args.videos, rng)]
    return out


def table(summary: Dict[str, dict]) -> str:
    lines = ["| input | pace s/letter | words | raw word acc | decoded word acc | letter error raw / decoded "
             "| J/Z recall | hold start to letter, median / p90 ms | correct words made wrong |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key, s in summary.items():
        if not key.startswith(("sim", "video")) or not s:
            continue
        kind, pace = key.split()
        jz = "-" if s["jz_recall"] is None else f"{s['jz_recall']:.0%}"
        lat = (f"{s['latency_median_ms']:.0f} / {s['latency_p90_ms']:.0f}" if s["latency_median_ms"] is not None
               else "-")
        lines.append(f"| {'simulated landmarks' if kind == 'sim' else 'real video, MediaPipe'} | {pace} "
                     f"| {s['words']} | {s['raw_accuracy']:.1%} | {s['decoded_accuracy']:.1%} "
                     f"| {s['raw_ler']:.1%} / {s['decoded_ler']:.1%} | {jz} | {lat} "
                     f"| {s['correct_made_wrong']:.1%} |")
    return "\n".join(lines) + "\n"


def nonword_changes(rows: List[dict]) -> dict:
    """Spelled non-words read right letter by letter, and how many of those the decoder changed."""
    kept = [r for r in rows if r["raw"] == r["truth"]]
    changed = [r for r in kept if r["decoded"] != r["raw"]]
    return {"spelled_right": len(kept), "of": len(rows), "changed": len(changed),
            "changed_rate": len(changed) / max(1, len(kept)),
            "examples": [f"{r['truth']}->{r['decoded']}" for r in changed][:10]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["mon95", "massey"], choices=["mon95", "massey"])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--paces", nargs="*", type=float, default=[2.0, 1.0, 0.5],
                    help="seconds per letter of the simulated words (none: only the videos)")
    ap.add_argument("--reps", type=int, default=2, help="times each word is spelled per pace and signer")
    ap.add_argument("--fps", type=float, default=30.0,
                    help="frame rate of the simulated words and videos (a camera in dim light gives 15)")
    ap.add_argument("--videos", type=int, default=4, help="real-video words per signer (at --video-pace)")
    ap.add_argument("--video-pace", type=float, default=1.0, help="seconds per letter in the real videos")
    ap.add_argument("--dim", type=float, default=0.0, metavar="F",
                    help="videos filmed in a dim room: each frame at F of its brightness, with sensor noise")
    ap.add_argument("--codec", choices=["mp4v", "MJPG"], default="mp4v",
                    help="how the videos are written: mp4v, or MJPG (JPEG frames, as a webcam sends them)")
    ap.add_argument("--no-lift", dest="lift", action="store_false",
                    help="turn the detector's dark-frame lift off (hands/exposure.py)")
    add_lift_blur(ap)
    ap.add_argument("--adapt", action="store_true",
                    help="adapt to each signer as they spell, as 'fingerspell live --adapt' does "
                         "(runtime/adaptation.py; each pace starts unadapted)")
    ap.add_argument("--learn", action="store_true",
                    help="learn each signer from the words they spell, as the commands do by default "
                         "(runtime/word_learning.py; after each word, each pace starts afresh)")
    ap.add_argument("--epochs", type=int, default=40, help="fold model epochs (accuracy.py's recipe)")
    ap.add_argument("--train-on", choices=["signers", "all"], default="signers",
                    help="fold models from the data set's other signers, or from every data set but that signer")
    ap.add_argument("--calibrate", type=int, default=0, metavar="K",
                    help="calibrate each signer with K photos per letter first (simulated words only)")
    ap.add_argument("--no-second-look", dest="second_look", action="store_false",
                    help="read the simulated frames' first readings only (the default reads each photo's "
                         "second reading too, moved along with the first, as the recognizer reads both)")
    ap.add_argument("--no-decode", action="store_true", help="measure without the word decoder")
    ap.add_argument("--pixels", action="store_true",
                    help="read with a fold hand-crop model beside the fold landmark model, as the shipped "
                         "models read (models/hand_crop.py; trained on the same photos, cached with the fold "
                         "models): the real videos' pixels, and a simulated held letter's photo")
    ap.add_argument("--no-signing-hand", dest="signing_hand", action="store_false",
                    help="real videos: without the rules that find the spelling hand among several "
                         "(runtime/signing_hand.py; one hand is in these videos, so the words read the same)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS / "words.json"))
    args = ap.parse_args(argv)
    import torch

    use_lift_blur(args.lift_blur)
    torch.set_num_threads(1)
    import calibration as bench_cal

    from fingerspell.reading.words import DecoderOptions, WordDecoder

    decoder = WordDecoder(options=DecoderOptions(enabled=not args.no_decode))
    t0 = time.time()
    rows: Dict[str, list] = {}
    per_signer: Dict[str, dict] = {}
    for name in args.datasets:
        data = load_dataset(Path(args.data_dir) / f"{name}.npz")
        for group in sorted(np.unique(data.groups).tolist()):
            got = run_signer(name, data, group, args, decoder, bench_cal)
            per_signer[group] = {k: summarize(v) for k, v in got.items() if k.startswith(("sim", "vid"))}
            for k, v in got.items():
                rows.setdefault(k, []).extend(v)
            shown = ", ".join(f"{k} s {v['decoded_accuracy']:.1%}" for k, v in per_signer[group].items()
                              if "decoded_accuracy" in v)
            print(f"{group}: decoded {shown}  ({time.time() - t0:.0f} s)", flush=True)
    summary = {k: summarize(v) for k, v in rows.items() if k.startswith(("sim", "video"))}
    still = np.sum(rows.get("still_dj", [[0, 0]]), axis=0)
    doc = {"summary": summary, "nonwords": nonword_changes(rows.get("nonwords", [])),
           "still_d_i": {"false_j_or_z": int(still[0]), "holds": int(still[1])},
           "per_signer": per_signer, "decoder": not args.no_decode, "settings": vars(args),
           "seconds": round(time.time() - t0, 1), "machine": machine()}
    md = table(summary) + (f"\nNon-words spelled right and changed by the decoder: {doc['nonwords']['changed']} of "
                           f"{doc['nonwords']['spelled_right']}. J or Z written for still D/I holds: "
                           f"{doc['still_d_i']['false_j_or_z']} of {doc['still_d_i']['holds']}.\n")
    write_results(args.out, doc, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
