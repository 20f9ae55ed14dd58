"""The applications: the live Tk GUI (:mod:`.live`) and the headless jobs (:mod:`.headless`: run,
collect, bench), plus the command-line options they share.

This module stays light (argparse only) because ``fingerspell --help`` imports it.
"""

from __future__ import annotations

import argparse


def nonempty(value: str) -> str:
    """argparse type: a name that is not empty (``--out ""`` would otherwise be ignored)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty: give a name, or leave the option out")
    return value


def positive_int(value: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} must be at least 1")
    return n


def add_source_arguments(p: argparse.ArgumentParser, default: str = "0", required: bool = False) -> None:
    p.add_argument("--source", default=None if required else default, required=required,
                   help=f"webcam index, video file, image folder, image or stream address (a phone camera "
                   f"app's http://PHONE:8080/video, rtsp://...) (default: {default})"
                   if not required else "webcam index (0), video file, image folder, image or stream address "
                   "(http://..., rtsp://...)")
    p.add_argument("--fps", type=float, default=10.0,
                   help="frame rate that times the frames of an image folder (default 10)")


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, type=nonempty,
                   help="checkpoint (<name>.safetensors / <name>.json, suffix optional), a .onnx file, or a "
                        "shipped model name (default: the shipped default model)")
    p.add_argument("--backend", choices=("torch", "onnx"), default=None,
                   help="run the model with PyTorch or onnxruntime (a checkpoint is exported to ONNX on "
                        "first use and cached; default: onnx for a .onnx file, else torch)")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for the model (default 1: per-frame batches are tiny, and more threads "
                        "fight MediaPipe for the CPU)")


def add_recognizer_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("recognition")
    g.add_argument("--threshold", type=float, default=0.5,
                   help="probability a hold's averaged reading needs to be written, and from which a frame's "
                        "reading is shown as sure (0.5: the shipped model's letters average 0.8-1.0 over a hold, "
                        "its confusions under 0.5)")
    g.add_argument("--window", type=int, default=8, help="frames in the vote that steadies the letter shown "
                                                          "over each hand (8); writing is decided by holds")
    g.add_argument("--cooldown", type=float, default=0.0,
                   help="least seconds between two written letters (default 0: a letter is written as soon as "
                        "its hold is read)")
    g.add_argument("--pause", type=float, default=1.0,
                   help="seconds without a hand in view that finish the word being spelled (1.0; the hand "
                        "back in view after 0.5 s away, or 0.2 s after it went out of the picture, finishes it "
                        "too; 0: all off)")
    g.add_argument("--profile", default=None, type=nonempty,
                   help="a calibration profile (a file or a stored name; see 'fingerspell calibrate')")
    g.add_argument("--adapt", action="store_true",
                   help="adapt to the person signing: after their first 20 letters the landmark model's "
                        "normalisation follows their hand (no label, no training). Helps a model trained on a few "
                        "signers; the shipped model reads about the same with it, and it replaces --learn "
                        "(docs/adaptation.md)")
    g.add_argument("--learn", action=argparse.BooleanOptionalAction, default=True,
                   help="learn your hand from the words you spell (on by default; --no-learn turns it off): each "
                        "word the decoder is sure of (a word of its lexicon at 0.9 or more) teaches the model what "
                        "its letters look like on you, fitted in the background in about a second; --adapt and "
                        "'bench' turn it off (docs/adaptation.md)")
    g.add_argument("--second-look", action=argparse.BooleanOptionalAction, default=True,
                   help="landmark models: read each hand a second time on the mirrored frame and average the two "
                        "readings (on by default: more right letters for new signers, about 5 ms more per frame "
                        "here; --no-second-look turns it off)")
    g.add_argument("--pixels", action=argparse.BooleanOptionalAction, default=True,
                   help="the shipped landmark model: read each hand's pixels too, with the shipped hand-crop "
                        "model, and join the two readings (on by default: more right letters for new signers; "
                        "about 2-3 ms on a frame the landmarks read unsurely, nothing on the others; --no-pixels "
                        "turns it off; docs/accuracy_features.md)")
    g.add_argument("--signing-hand", action=argparse.BooleanOptionalAction, default=True,
                   help="with another hand in view (resting on the desk, say), find the one that spells: a hand "
                        "still for 1 s is passed over for one held clearly higher, which the single-hand tracker "
                        "is then shown (on by default; --no-signing-hand turns it off; docs/runtime.md)")
    g.add_argument("--max-hands", type=int, default=1,
                   help="hands to track at once (1; fingerspelling is one-handed, and with 2 MediaPipe runs its "
                        "palm detector on every frame that shows one hand: about 10 ms more per frame here)")
    g.add_argument("--detector", choices=("solutions", "tasks"), default="solutions",
                   help="MediaPipe backend (default: solutions)")
    g.add_argument("--complexity", type=int, choices=(0, 1), default=1,
                   help="MediaPipe hand model: 0 lite (faster), 1 full (default)")
    from fingerspell.reading.words import add_decoder_arguments

    add_decoder_arguments(g)


def recognizer_options(args: argparse.Namespace):
    """The :class:`~fingerspell.runtime.recognizer.RecognizerOptions` the shared options ask for."""
    from fingerspell.reading.holds import HoldOptions
    from fingerspell.reading.reader import ReaderOptions
    from fingerspell.runtime.recognizer import RecognizerOptions
    from fingerspell.runtime.signing_hand import SigningHandOptions
    from fingerspell.runtime.smoothing import SmoothingOptions
    from fingerspell.runtime.word_learning import LearnOptions

    holds = HoldOptions(min_confidence=args.threshold, min_gap_s=args.cooldown)
    return RecognizerOptions(smoothing=SmoothingOptions(threshold=args.threshold, window=args.window),
                             reader=ReaderOptions(holds=holds, pause_s=args.pause),
                             adapt=getattr(args, "adapt", False),
                             second_look=getattr(args, "second_look", True),
                             signing_hand=SigningHandOptions(enabled=getattr(args, "signing_hand", True)),
                             # on unless asked not to; --adapt replaces it; 'bench' times the reading alone
                             learn=(getattr(args, "learn", False) and not getattr(args, "adapt", False)
                                    and getattr(args, "command", "") != "bench"),
                             # a file is read as fast as it decodes: fit before the next frame, so runs repeat
                             learning=LearnOptions(background=getattr(args, "command", "") in ("live", "serve")))


def recognizer_from_args(args: argparse.Namespace):
    """A :class:`~fingerspell.runtime.recognizer.Recognizer` from the shared options."""
    from fingerspell.reading.words import decoder_from_args
    from fingerspell.runtime.recognizer import Recognizer

    return Recognizer.from_model(args.model, backend=args.backend, options=recognizer_options(args),
                                 max_hands=args.max_hands, detector_backend=args.detector,
                                 model_complexity=args.complexity, threads=args.threads,
                                 decoder=decoder_from_args(args), profile=getattr(args, "profile", None),
                                 pixels=getattr(args, "pixels", True))
