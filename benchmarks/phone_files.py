"""Phone photos and videos: stored sideways with a tag that turns them upright, and filmed at a
variable frame rate.

    OMP_NUM_THREADS=1 python benchmarks/phone_files.py [--json F] [--skip-photos]

A phone keeps the sensor's landscape pixels and writes how to show them (a photo's EXIF
orientation, a video's display matrix). A reader that ignores the tag sees every hand turned by a
quarter, and the letters are read from their orientation as well as their shape (H/U, G/Q, K/P).

* **photos**: real photos of signers the model may or may not have seen (mon95 photos 1 and 6 of
  every letter of every user, two sittings, and asl-alphabets' test photos 0-2; mon95's T left out),
  each written as a phone JPEG turned a quarter with its EXIF tag (6: turn clockwise to show, and
  8: anticlockwise). Read three ways with ``fingerspell.load().predict``: the photo as it is, the phone
  file (the tag applied, as ``predict`` reads it now), and the stored pixels without the tag (what
  ``predict`` read before 2026-12-06); and each written as an iPhone HEIC turned with its rotation
  (pillow-heif) and as an AVIF turned with its EXIF tag (Pillow), read by ``predict`` (before
  2026-12-06 a HEIC or AVIF photo got an error asking for a JPEG);
* **videos**: words spelled with real photos of mon95 users (photovideo), stored as a phone stores
  an upright film (each frame turned a quarter, a display matrix to turn it back; imageio-ffmpeg's
  ffmpeg writes the tag), read by ``reader.read`` as ``run`` reads a file, and the same frames read
  untagged (what the reader saw before);
* **variable frame rate**: 10 words spelled with mon95 users' photos at 1.0 s a letter, 30 fps for
  the first half of the film and 7.5 fps after (a phone in failing light keeps every fourth frame,
  with their own timestamps; ffmpeg's ``select`` filter), read as ``run`` reads a file: each frame at
  its own time (now), and at index / the file's mean rate (before 2026-12-06); and the same films at
  a constant 30 fps;
* **compression**: the 10 words at a constant 30 fps, encoded as H.264 at CRF 23 (ffmpeg's default),
  35 and 45 (what a messaging app's "data saver" sends looks like 35-40), read as ``run`` reads a file;
* **codecs**: the 10 words at 30 fps as H.264, HEVC (an iPhone's .mov), VP9 and AV1 (WebM, an
  Android phone's or a screen recorder's .mp4), read as ``run`` reads a file; and whether OpenCV
  alone decodes each (it decodes no AV1: those are read by imageio-ffmpeg's ffmpeg since 2026-12-06).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine, write_results  # noqa: E402

from fingerspell.data.exceptions import exception_for  # noqa: E402

WORDS = ("HELLO", "QUICK", "PAGE", "BOX", "WORLD")  # no T: mon95's T is not the ASL T
VFR_WORDS = WORDS + ("COFFEE", "BOOK", "SMALL", "HAPPY", "WAVY")
CRFS = (23, 35, 45)
#: what phones, screen recorders and browsers write; name -> (file, ffmpeg's encoding options)
CODECS = {"H.264 (.mp4)": ("h264.mp4", ("-c:v", "libx264", "-crf", "23")),
          "HEVC (.mov, an iPhone's)": ("hevc.mov", ("-c:v", "libx265", "-crf", "28", "-tag:v", "hvc1",
                                                    "-x265-params", "log-level=error")),
          "VP9 (.webm, a browser's)": ("vp9.webm", ("-c:v", "libvpx-vp9", "-crf", "33", "-b:v", "0")),
          "AV1 (.mp4, an Android phone's)": ("av1.mp4", ("-c:v", "libsvtav1", "-crf", "35",
                                                           "-svtav1-params", "log-level=0")),
          "AV1 (.webm, a screen recorder's)": ("av1.webm", ("-c:v", "libsvtav1", "-crf", "35",
                                                              "-svtav1-params", "log-level=0"))}
TAGS = {6: "ROTATE_90", 8: "ROTATE_270"}  # EXIF tag -> how the stored pixels were turned from upright


def photo_files(root: Path) -> list:
    files = []
    for user in sorted((root / "mon95").glob("user_*")):
        files += [(p, p.stem[0]) for p in sorted(user.glob("*.jpg"))  # mon95's T and user_5's Y0-Y4 left out
                  if p.stem[1:] in ("1", "6") and not exception_for("mon95", p.stem[0], path=str(p))]
    for letter_dir in sorted((root / "asl-alphabets" / "test").iterdir()):
        if len(letter_dir.name) == 1:
            files += [(p, letter_dir.name) for p in sorted(letter_dir.glob("*.jpg"))[:3]]
    return files


def photo_rows(reader, files: list, tmp: Path) -> dict:
    import cv2
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    right = {"as taken": 0, **{f"phone (tag {t}) read now": 0 for t in TAGS},
             **{f"phone (tag {t}) read untagged": 0 for t in TAGS}, "iPhone HEIC (tag 6) read now": 0,
             "AVIF (tag 6) read now": 0}
    for i, (path, truth) in enumerate(files):
        upright = Image.open(path).convert("RGB")
        right["as taken"] += reader.predict(str(path)).letter == truth
        for tag, turn in TAGS.items():
            exif = Image.Exif()
            exif[0x0112] = tag
            phone = tmp / f"phone_{tag}.jpg"
            upright.transpose(getattr(Image.Transpose, turn)).save(phone, exif=exif, quality=95)
            right[f"phone (tag {tag}) read now"] += reader.predict(str(phone)).letter == truth
            stored = cv2.imdecode(np.fromfile(str(phone), np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            right[f"phone (tag {tag}) read untagged"] += reader.predict(stored).letter == truth
        exif = Image.Exif()
        exif[0x0112] = 6  # pillow-heif writes it as the HEIF rotation, as an iPhone does
        upright.transpose(Image.Transpose.ROTATE_90).save(tmp / "phone.heic", exif=exif.tobytes(), quality=90)
        right["iPhone HEIC (tag 6) read now"] += reader.predict(str(tmp / "phone.heic")).letter == truth
        upright.transpose(Image.Transpose.ROTATE_90).save(tmp / "phone.avif", exif=exif.tobytes(), quality=90)
        right["AVIF (tag 6) read now"] += reader.predict(str(tmp / "phone.avif")).letter == truth
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(files)} photos", flush=True)
    return {k: v / len(files) for k, v in right.items()}


def video_rows(reader, tmp: Path) -> dict:
    from fingerspell.hands.detector import HandDetector
    from fingerspell.reading.photovideo import write_video
    from fingerspell.runtime.video_out import bundled_ffmpeg

    ffmpeg = bundled_ffmpeg()
    rows = {"words": len(WORDS), "right tagged": 0, "right untagged": 0, "read": []}
    with HandDetector(mode="image", max_hands=1) as det:
        for k, word in enumerate(WORDS):
            user = f"user_{3 + k % 5}"
            film = word_film(det, word, k, size=(480, 640))
            stored = tmp / "stored.mp4"
            write_video([np.ascontiguousarray(np.rot90(f, k=-1)) for f in film], stored, fps=30.0)
            phone = tmp / "phone.mp4"
            subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(stored),
                            "-c", "copy", str(phone)], check=True)
            now = reader.read(str(phone), fps=30, learn=False, decode=False).text.strip()
            before = reader.read(str(stored), fps=30, learn=False, decode=False).text.strip()
            rows["right tagged"] += now == word
            rows["right untagged"] += before == word
            rows["read"].append({"word": word, "user": user, "tagged": now, "untagged": before})
            print(f"  {word} ({user}): tag applied {now!r}, untagged {before!r}", flush=True)
    return rows


def word_film(det, word: str, k: int, size=(640, 480), pace: float = 1.0) -> list:
    from fingerspell.hands.detector import load_image
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_of_hand, photo_word_frames

    user = f"user_{3 + k % 5}"
    shots = {}
    for letter in sorted(set(word)):
        img = load_image(data_root() / "mon95" / user / f"{letter}1.jpg")
        shots[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
    return photo_word_frames(word, shots, np.random.default_rng(k), PhotoVideoOptions(size=size, pace=pace))[0]


def spelled(reader, path: Path, fps=None, options=None) -> str:
    """The word read from a video file as ``run`` reads it (its own frame times, or index / fps);
    ``options``: RecognizerOptions other than ``run``'s."""
    from fingerspell.api import _reading_parts
    from fingerspell.hands.detector import HandDetector
    from fingerspell.runtime.recognizer import Recognizer
    from fingerspell.runtime.sources import VideoSource

    with VideoSource(path, fps=fps) as src, HandDetector(mode="video", max_hands=1) as det:
        decoder, opts = _reading_parts(options, False, None, False, live=False)
        rec = Recognizer(det, reader.classifier, reader.card, opts, decoder=decoder)
        for frame, t in src:
            rec.process(frame, t)
        rec.finish()
    return " ".join(w.spelled for w in rec.sentence.words)  # a word split in two reads wrong


def vfr_rows(reader, tmp: Path) -> dict:
    import cv2

    from fingerspell.hands.detector import HandDetector
    from fingerspell.reading.photovideo import write_video
    from fingerspell.runtime.video_out import bundled_ffmpeg

    rows = {"words": len(VFR_WORDS), "constant 30 fps": 0, "own times (now)": 0, "index / mean rate (before)": 0,
            "read": []}
    with HandDetector(mode="image", max_hands=1) as det:
        for k, word in enumerate(VFR_WORDS):
            film = word_film(det, word, k)
            write_video(film, tmp / "cfr.mp4", fps=30.0)
            subprocess.run([bundled_ffmpeg(), "-y", "-loglevel", "error", "-i", str(tmp / "cfr.mp4"), "-vf",
                            f"select='lt(n,{len(film) // 2})+not(mod(n,4))'", "-fps_mode", "vfr", "-c:v", "libx264",
                            "-crf", "18", str(tmp / "vfr.mp4")], check=True)
            cap = cv2.VideoCapture(str(tmp / "vfr.mp4"))
            mean_fps = cap.get(cv2.CAP_PROP_FPS)
            cap.release()
            read = {"constant 30 fps": spelled(reader, tmp / "cfr.mp4"),
                    "own times (now)": spelled(reader, tmp / "vfr.mp4"),
                    "index / mean rate (before)": spelled(reader, tmp / "vfr.mp4", fps=mean_fps)}
            for key, text in read.items():
                rows[key] += text == word
            rows["read"].append({"word": word, "mean_fps": round(mean_fps, 1), **read})
            print(f"  {word}: {read} (mean {mean_fps:.1f} fps)", flush=True)
    return rows


def compression_rows(reader, tmp: Path) -> dict:
    from fingerspell.hands.detector import HandDetector
    from fingerspell.reading.photovideo import write_video
    from fingerspell.runtime.video_out import bundled_ffmpeg

    rows = {"words": len(VFR_WORDS), **{f"crf {c}": 0 for c in CRFS}, "kb_per_s": {}, "read": []}
    with HandDetector(mode="image", max_hands=1) as det:
        for k, word in enumerate(VFR_WORDS):
            film = word_film(det, word, k)
            write_video(film, tmp / "plain.avi", fps=30.0, codec="MJPG")  # close to the pixels
            read = {"word": word}
            for crf in CRFS:
                out = tmp / f"crf{crf}.mp4"
                subprocess.run([bundled_ffmpeg(), "-y", "-loglevel", "error", "-i", str(tmp / "plain.avi"), "-c:v",
                                "libx264", "-crf", str(crf), "-pix_fmt", "yuv420p", str(out)], check=True)
                rate = out.stat().st_size / 1024 / (len(film) / 30.0)
                rows["kb_per_s"].setdefault(f"crf {crf}", []).append(round(rate, 1))
                read[f"crf {crf}"] = spelled(reader, out)
                rows[f"crf {crf}"] += read[f"crf {crf}"] == word
            rows["read"].append(read)
            print(f"  {read}", flush=True)
    return rows


def codec_rows(reader, tmp: Path) -> dict:
    """The 10 words at 30 fps in each of :data:`CODECS`, read as ``run`` reads a file; "OpenCV alone":
    whether OpenCV's own FFmpeg decodes the file's frames (before 2026-12-06 a file it could not read
    was an error; now imageio-ffmpeg's ffmpeg reads it: runtime/ffmpeg_video.py)."""
    import cv2

    from fingerspell.hands.detector import HandDetector
    from fingerspell.reading.photovideo import write_video
    from fingerspell.runtime.sources import VideoSource
    from fingerspell.runtime.video_out import bundled_ffmpeg

    rows = {name: {"right": 0, "opencv_reads": 0, "decoder": ""} for name in CODECS}
    rows["words"], rows["read"] = len(VFR_WORDS), []
    with HandDetector(mode="image", max_hands=1) as det:
        for k, word in enumerate(VFR_WORDS):
            write_video(word_film(det, word, k), tmp / "plain.avi", fps=30.0, codec="MJPG")
            read = {"word": word}
            for name, (file, options) in CODECS.items():
                out = tmp / file
                subprocess.run([bundled_ffmpeg(), "-y", "-loglevel", "error", "-i", str(tmp / "plain.avi"),
                                *options, "-pix_fmt", "yuv420p", str(out)], check=True)
                cap = cv2.VideoCapture(str(out))
                rows[name]["opencv_reads"] += bool(cap.read()[0])
                cap.release()
                with VideoSource(out) as src:
                    rows[name]["decoder"] = src.decoder
                read[name] = spelled(reader, out)
                rows[name]["right"] += read[name] == word
            rows["read"].append(read)
            print(f"  {read}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", default=str(Path(__file__).resolve().parent / "results" / "phone_files.json"))
    ap.add_argument("--skip-photos", action="store_true", help="only the videos (the photos take 3 minutes)")
    args = ap.parse_args()
    import fingerspell
    from fingerspell.runtime.video_out import bundled_ffmpeg

    if not bundled_ffmpeg():
        raise SystemExit("imageio-ffmpeg's ffmpeg is needed to tag the videos: pip install imageio-ffmpeg")
    files = photo_files(data_root())
    with tempfile.TemporaryDirectory() as tmp, fingerspell.load() as reader:
        photos = {} if args.skip_photos else photo_rows(reader, files, Path(tmp))
        videos = video_rows(reader, Path(tmp))
        vfr = vfr_rows(reader, Path(tmp))
        squeezed = compression_rows(reader, Path(tmp))
        codecs = codec_rows(reader, Path(tmp))
    lines = [f"Phone photos and videos ({len(files)} photos, {videos['words']} words; {machine()})", "",
             "| photos | letters read right |", "|---|---|"]
    lines += [f"| {k} | {v:.1%} |" for k, v in photos.items()]
    lines += ["", "| videos (upright film stored turned, with a display matrix) | words right as spelled |",
              "|---|---|",
              f"| tag applied (read now) | {videos['right tagged']} of {videos['words']} |",
              f"| untagged (read before) | {videos['right untagged']} of {videos['words']} |"]
    lines += [f"* {r['word']} ({r['user']}): {r['tagged']} / {r['untagged']}" for r in videos["read"]]
    keys = ("constant 30 fps", "own times (now)", "index / mean rate (before)")
    lines += ["", "| variable frame rate (30 fps, then 7.5 fps) | words right as spelled |", "|---|---|"]
    lines += [f"| {k} | {vfr[k]} of {vfr['words']} |" for k in keys]
    lines += [f"* {r['word']} (mean {r['mean_fps']} fps): " + " / ".join(r[k] for k in keys) for r in vfr["read"]]
    lines += ["", "| H.264 compression (640x480, 30 fps) | kB per second (median) | words right as spelled |",
              "|---|---|---|"]
    lines += [f"| CRF {c} | {np.median(squeezed['kb_per_s'][f'crf {c}']):.0f} | {squeezed[f'crf {c}']} of "
              f"{squeezed['words']} |" for c in CRFS]
    lines += ["* " + " / ".join(r[f"crf {c}"] for c in CRFS) for r in squeezed["read"]]
    lines += ["", "| codec (640x480, 30 fps) | OpenCV alone decodes it | read by | words right as spelled |",
              "|---|---|---|---|"]
    lines += [f"| {c} | {codecs[c]['opencv_reads']} of {codecs['words']} | {codecs[c]['decoder']} | "
              f"{codecs[c]['right']} of {codecs['words']} |" for c in CODECS]
    lines += ["* " + " / ".join(r[c] for c in CODECS) for r in codecs["read"]]
    write_results(args.json, {"machine": machine(), "photos": photos, "n_photos": len(files), "videos": videos,
                              "variable_frame_rate": vfr, "compression": squeezed, "codecs": codecs},
                  "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
