"""``fingerspell calibrate``: make the recognizer yours from a few samples of each letter.

    fingerspell calibrate --source photos/ --out me           # photos/A/*.jpg, photos/B/*.jpg, ...
    fingerspell calibrate --source me.mp4 --labels me.csv --out me   # CSV rows start_s,end_s,letter
    fingerspell calibrate --source 0 --out me [--window]      # webcam: terminal prompts, or a window
    fingerspell calibrate --source photos/ --out me --letters R,U --update   # redo two letters
    fingerspell calibrate --refit me                          # fit again for new weights, no recording
    fingerspell calibrate --list | --show me | --remove me

``--out`` takes a name (stored in the user's profile folder, see ``--list``) or a path. An existing
profile is never replaced silently: ``--update`` merges (the letters recorded now replace those
letters' old samples), ``--overwrite`` starts afresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

NAME = "calibrate"
HELP = "adapt the model to your hand from a few samples per letter (a profile for --profile)"
ORDER = 5


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", help="folder of photos in class folders (DIR/A/*.jpg), a video with --labels, "
                                    "a webcam index (0) or a camera stream address (http://..., rtsp://...)")
    p.add_argument("--out", help="profile name (stored in the profile folder) or path (me.profile)")
    p.add_argument("--letters", default=None, help="only these letters, e.g. A,B,R (default: every letter "
                                                   "read from a still hand; J and Z come from the motion)")
    p.add_argument("--model", default=None, help="base model: checkpoint path or shipped name (default: shipped)")
    p.add_argument("--labels", default=None, help="label CSV for a video: start_s,end_s,letter rows "
                                                  "(default: the video's name with .csv)")
    p.add_argument("--method", choices=["auto", "net", "head", "proto"], default=None,
                   help="adaptation (default: auto = net, blended with the base model; see "
                        "docs/calibration.md)")
    p.add_argument("--per-letter", type=int, default=None, help="use at most N samples per letter")
    p.add_argument("--update", action="store_true", help="merge into an existing profile")
    p.add_argument("--overwrite", action="store_true", help="replace an existing profile")
    p.add_argument("--record", action="store_true", help="record letter by letter from --source as from a "
                                                         "webcam (implied by a webcam index), e.g. a video")
    p.add_argument("--window", action="store_true", help="webcam: record in a window (else terminal prompts)")
    p.add_argument("--countdown", type=float, default=3.0, help="webcam: seconds to get ready per letter")
    p.add_argument("--capture", type=float, default=1.5, help="webcam: seconds captured per letter")
    p.add_argument("--refit", metavar="NAME", default=None,
                   help="fit a stored profile again for --model (default: the shipped model) from the samples "
                        "it keeps, e.g. after an upgrade; in place unless --out is given")
    p.add_argument("--list", action="store_true", help="list the stored profiles")
    p.add_argument("--show", metavar="NAME", default=None, help="print a profile's card")
    p.add_argument("--remove", metavar="NAME", default=None, help="delete a stored profile")


def _summary(name: str, card: dict) -> str:
    n = sum(card.get("samples_per_letter", {}).values())
    return (f"{name}: {len(card.get('letters', []))} letters, {n} samples, method {card.get('method')}, "
            f"model {card.get('base_model', {}).get('name')}, {card.get('created', '')[:10]}")


def _manage(args) -> int:
    from fingerspell.reading import calibration as cal
    from fingerspell.reading import profiles

    if args.list:
        names = profiles.list_profiles()
        print(f"profiles in {profiles.profiles_dir()}:" if names else f"no profiles in {profiles.profiles_dir()}")
        sha = cal.model_identity(args.model)["sha256"] if names else None
        for name in names:
            card = cal.load_profile(profiles.profile_path(name)).card
            stale = card.get("base_model", {}).get("sha256") != sha
            note = f" (other weights: fingerspell calibrate --refit {name})" if stale else ""
            print("  " + _summary(name, card) + note)
    if args.show:
        print(json.dumps(cal.load_profile(profiles.resolve_profile(args.show)).card, indent=1))
    if args.remove:
        print(f"removed {profiles.remove_profile(args.remove)}")
    return 0


def _collect(args, clf, letters):
    from pathlib import Path

    from fingerspell.errors import FingerspellError
    from fingerspell.media import IMAGE_SUFFIXES, is_stream_url
    from fingerspell.reading import calibration_capture as cap

    src = str(args.source)
    if src.strip().isdigit() or is_stream_url(src.strip()) or args.record:  # a camera or a phone's stream
        return _record_camera(args, clf, letters)
    path = Path(src).expanduser()
    if path.is_dir():
        return cap.samples_from_folder(path, clf, letters, per_letter=args.per_letter,
                                       warn=lambda m: print(f"fingerspell calibrate: warning: {m}", file=sys.stderr))
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        raise FingerspellError(f"--source {src} is one image: give a folder of class folders (A/, B/, ... of "
                               "photos), a video with its label file, or a webcam index")
    if path.is_file():
        labels = Path(args.labels) if args.labels else cap.default_label_file(path)
        return cap.samples_from_video(path, labels, clf, letters, per_letter=args.per_letter or 30)
    raise FingerspellError(f"--source {src} does not exist: give a folder of photos, a video or a webcam index")


def _record_camera(args, clf, letters):
    from fingerspell.reading import calibration_capture as cap
    from fingerspell.runtime.sources import open_source

    rec = cap.CalibrationRecorder(letters, countdown_s=args.countdown, capture_s=args.capture)
    shown = {"key": None}

    def show(st) -> None:
        key = (st.letter, st.phase, int(st.seconds_left + 0.999))
        if key != shown["key"]:
            shown["key"] = key
            print(f"[{st.progress:4.0%}] {st.letter or ''} {st.phase} {st.seconds_left:3.0f} s  {st.message}",
                  flush=True)

    with open_source(str(args.source)) as src:
        if args.window:
            from fingerspell.apps.calibrate_window import record_in_window

            return record_in_window(src, clf, rec)
        print(f"recording {len(letters)} letters: sign each one when asked and hold it", flush=True)
        return cap.record(src, clf, rec, on_status=show)


def _refit(args) -> int:
    from fingerspell.errors import FingerspellError
    from fingerspell.reading import calibration as cal
    from fingerspell.reading import profiles
    from fingerspell.reading.calibration_refit import refit_profile
    from fingerspell.runtime.classifier import load_classifier

    given = [flag for flag, value in (("--source", args.source), ("--update", args.update), ("--letters", args.letters),
                                      ("--per-letter", args.per_letter), ("--labels", args.labels),
                                      ("--record", args.record), ("--window", args.window)) if value]
    if given:  # each would be silently ignored: the samples are the profile's own, all of them
        raise FingerspellError(f"--refit fits all of a profile's stored samples again: it takes no {', '.join(given)} "
                               "(record new samples with --source ... --out NAME --update instead)")
    src = profiles.resolve_profile(args.refit)
    out = profiles.profile_path(args.out) if args.out else src
    if out != src and out.exists() and not args.overwrite:
        raise FingerspellError(f"profile {out} already exists: pass --overwrite to replace it, or choose another --out")
    old = cal.load_profile(src)
    base = cal.model_identity(args.model)
    clf, _ = load_classifier(base["path"])
    t0 = time.perf_counter()
    prof = refit_profile(old, clf, base, method=args.method, where=str(src))
    cal.save_profile(prof, out, overwrite=True)
    print(_summary(str(out), prof.card))
    was = old.card["base_model"]
    print(f"fitted again in {time.perf_counter() - t0:.2f} s from its {len(prof.labels)} samples (was for "
          f"{was.get('name')} sha256 {str(was.get('sha256'))[:12]}, now {base['name']} sha256 {base['sha256'][:12]})",
          file=sys.stderr)
    return 0


def run(args) -> int:
    from fingerspell.errors import FingerspellError
    from fingerspell.reading import calibration as cal
    from fingerspell.reading import calibration_capture as cap
    from fingerspell.reading import profiles
    from fingerspell.runtime.classifier import load_classifier

    if args.list or args.show or args.remove:
        return _manage(args)
    if args.refit:
        return _refit(args)
    if not args.source or not args.out:
        raise FingerspellError("give --source (photos, video or webcam) and --out NAME, or --list/--show/--remove")
    if args.update and args.overwrite:
        raise FingerspellError("--update merges into the profile and --overwrite replaces it: pick one")
    out = profiles.profile_path(args.out)
    old = None
    if out.exists():
        if not (args.update or args.overwrite):
            raise FingerspellError(f"profile {out} already exists: pass --update to redo letters in it, "
                                   "--overwrite to replace it, or choose another --out")
        old = cal.load_profile(out) if args.update else None
    base = cal.model_identity(args.model)
    if old is not None:
        cal.check_profile(old, base, out)
    clf, card = load_classifier(base["path"])
    letters = cap.parse_letters(args.letters, clf.classes, card)
    t0 = time.perf_counter()
    x, y = _collect(args, clf, letters)
    t1 = time.perf_counter()
    if old is not None:
        x, y = cal.merge_samples(old, x, y)
    method = args.method or (old.card.get("method_requested", old.method) if old is not None else cal.DEFAULT_METHOD)
    prof = cal.fit_profile(clf, x, y, base, method=method, source=str(args.source))
    t2 = time.perf_counter()
    cal.save_profile(prof, out, overwrite=True if old is not None or args.overwrite else False)
    print(_summary(str(out), prof.card))
    print(f"samples read in {t1 - t0:.1f} s, profile fitted in {t2 - t1:.2f} s; use it with --profile {args.out}",
          file=sys.stderr)
    return 0
