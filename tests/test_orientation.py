"""Phone photos and videos are stored sideways with a tag saying how to turn them upright (EXIF
orientation, an MP4 display matrix). They must be read upright: the letters are not the same shapes
turned by 90 degrees (an upright L turned is read as G)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from fingerspell.runtime.video_out import bundled_ffmpeg


def test_a_phone_photo_is_read_upright(data, tmp_path):
    import fingerspell
    from fingerspell.hands.detector import load_image

    upright = Image.open(data / "mon95" / "user_7" / "L1.jpg").convert("RGB")  # 320x240
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to show it": the camera stored it turned the other way
    upright.transpose(Image.ROTATE_90).save(tmp_path / "phone.jpg", exif=exif, quality=95)

    img = load_image(tmp_path / "phone.jpg")
    assert img.shape[:2] == (240, 320)
    assert np.abs(img[:, :, ::-1].astype(int) - np.asarray(upright)).mean() < 6  # JPEG noise only
    with fingerspell.load() as reader:
        assert reader.predict(tmp_path / "phone.jpg").letter == "L"


def _phone_film(data, tmp_path, encode=()):
    """HELLO spelled with real photos of a mon95 user, stored as a phone stores an upright film: each
    frame turned a quarter clockwise, tagged to turn back. ``encode``: ffmpeg's options to re-encode
    it first (the tag is added after, as ``-c copy`` keeps it). The frames as shown, and the file."""
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_of_hand, photo_word_frames, write_video

    shots = {}
    with HandDetector(mode="image", max_hands=1) as det:
        for letter in "EHLO":
            img = load_image(data / "mon95" / "user_7" / f"{letter}1.jpg")
            shots[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
    frames, _ = photo_word_frames("HELLO", shots, np.random.default_rng(0), PhotoVideoOptions(size=(480, 640)))
    stored = tmp_path / "stored.avi"
    write_video([np.ascontiguousarray(np.rot90(f, k=-1)) for f in frames], stored, fps=30.0, codec="MJPG")
    ffmpeg = bundled_ffmpeg()
    assert ffmpeg, "imageio-ffmpeg's ffmpeg is a dependency"
    if encode:
        subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(stored), *encode, str(tmp_path / "coded.mp4")],
                       check=True)
        stored = tmp_path / "coded.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(stored),
                    "-c", "copy", str(tmp_path / "phone.mp4")], check=True)
    return frames, tmp_path / "phone.mp4"


def test_a_phone_video_is_read_upright(data, tmp_path):
    import fingerspell
    from fingerspell.runtime.sources import VideoSource

    frames, _ = _phone_film(data, tmp_path, encode=("-c:v", "mpeg4", "-q:v", "2"))
    plain = cv2.VideoCapture(str(tmp_path / "phone.mp4"))
    assert plain.get(cv2.CAP_PROP_ORIENTATION_META) in (90.0, 270.0)  # the tag is there
    plain.release()

    src = VideoSource(tmp_path / "phone.mp4")
    frame, _ = src.read()
    src.close()
    assert frame.shape[:2] == (640, 480)
    assert np.abs(frame.astype(int) - frames[0]).mean() < 8  # upright again, not mirrored or upside down
    with fingerspell.load() as reader:
        assert reader.read(str(tmp_path / "phone.mp4"), fps=30, learn=False, decode=False).text.strip() == "HELLO"


def test_an_av1_phone_video_is_read_upright_at_its_own_frame_times(data, tmp_path):
    """AV1, which OpenCV's wheel cannot decode (recent Android phones, screen recorders, browsers),
    read through imageio-ffmpeg's ffmpeg: upright, each frame at its own time in the file (a phone's
    variable rate: the second half keeps every fourth frame), and spelled end to end."""
    import fingerspell
    from fingerspell.runtime.sources import VideoSource, open_source

    n = 150  # the first 5 s of the film
    frames, phone = _phone_film(data, tmp_path, encode=(
        "-vf", f"trim=end_frame={n},select='lt(n,{n // 2})+not(mod(n,4))'", "-fps_mode", "vfr",
        "-c:v", "libsvtav1", "-crf", "30", "-svtav1-params", "log-level=0"))
    plain = cv2.VideoCapture(str(phone))
    assert not plain.read()[0]  # OpenCV alone reads nothing of it
    plain.release()
    kept = [i for i in range(n) if i < n // 2 or i % 4 == 0]
    with VideoSource(phone) as src:
        read = list(src)
    assert src.decoder == "ffmpeg" and not src.ended_early
    assert len(read) == len(kept)
    assert read[0][0].shape[:2] == (640, 480)
    assert np.abs(read[0][0].astype(int) - frames[0]).mean() < 8  # upright, not mirrored or upside down
    assert np.abs(read[-1][0].astype(int) - frames[kept[-1]]).mean() < 8
    assert np.allclose([t for _, t in read], [i / 30 for i in kept], atol=0.002)

    whole = _phone_film(data, tmp_path, encode=("-c:v", "libsvtav1", "-crf", "30", "-svtav1-params", "log-level=0"))[1]
    with fingerspell.load() as reader:
        transcript = reader.read(str(whole), learn=False, decode=False)
    assert transcript.text.strip() == "HELLO"
    cue = transcript.subtitles("vtt").splitlines()[2:4]  # the API's subtitles: one cue, while it was spelled
    assert cue[1] == "HELLO" and cue[0].startswith("00:00:0")
    cut = tmp_path / "cut.webm"  # a WebM (no index at the end) cut off half-way: kept, and said
    subprocess.run([bundled_ffmpeg(), "-y", "-loglevel", "error", "-i", str(whole), "-c", "copy", str(cut)], check=True)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    with open_source(str(cut)) as src:
        assert 10 < sum(1 for _ in src) < len(frames) * 0.7
    assert src.ended_early and "truncated or damaged" in src.message


def _iphone_heic(photo, out):
    """``photo`` saved as an iPhone saves an upright photo: HEVC pixels stored turned, tagged to turn back."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x0112] = 6  # pillow-heif writes it as the HEIF rotation, as an iPhone does
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.open(photo).convert("RGB").transpose(Image.ROTATE_90).save(out, exif=exif.tobytes(), quality=90)
    assert out.read_bytes()[4:12] == b"ftypheic"
    return out


def test_an_iphone_heic_photo_is_read_upright(data, tmp_path, capsys):
    """An iPhone's default photo format, and AVIF (recent Android phones, the web): read by name, in a
    folder, by build-dataset, and upright."""
    import json

    import fingerspell
    from fingerspell.cli import main
    from fingerspell.data.schema import load_dataset
    from fingerspell.hands.detector import load_image

    upright = np.asarray(Image.open(data / "mon95" / "user_7" / "L1.jpg").convert("RGB"))
    heic = _iphone_heic(data / "mon95" / "user_7" / "L1.jpg", tmp_path / "phone" / "L" / "IMG_0001.HEIC")
    img = load_image(heic)
    assert img.shape[:2] == (240, 320)
    assert np.abs(img[:, :, ::-1].astype(int) - upright).mean() < 8  # HEVC noise only
    misnamed = tmp_path / "phone" / "L" / "IMG_0002.jpg"  # a HEIC whose name says JPEG
    misnamed.write_bytes(heic.read_bytes())
    assert np.array_equal(load_image(misnamed), img)
    avif = tmp_path / "phone" / "L" / "IMG_0003.avif"  # stored turned, its EXIF tag turning it back
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.open(data / "mon95" / "user_7" / "L1.jpg").convert("RGB").transpose(Image.ROTATE_90).save(
        avif, exif=exif.tobytes(), quality=90)
    assert avif.read_bytes()[4:12] == b"ftypavif"
    assert np.abs(load_image(avif)[:, :, ::-1].astype(int) - upright).mean() < 8
    gif = tmp_path / "L.gif"  # OpenCV's wheel reads no GIF: Pillow does, given by name
    Image.open(data / "mon95" / "user_7" / "L1.jpg").save(gif)
    with fingerspell.load() as reader:
        assert reader.predict(heic).letter == "L"
        assert reader.predict(avif).letter == "L"
        assert reader.predict(gif).letter == "L"
    assert main(["predict", "--json", str(tmp_path / "phone")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert sorted(Path(r["path"]).name for r in rows) == ["IMG_0001.HEIC", "IMG_0002.jpg", "IMG_0003.avif"]
    assert all(r["letter"] == "L" for r in rows)
    a = tmp_path / "phone" / "A"
    a.mkdir()
    (a / "A1.jpg").symlink_to(data / "mon95" / "user_7" / "A1.jpg")
    out = tmp_path / "phone.npz"
    assert main(["build-dataset", str(tmp_path / "phone"), "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                 "--workers", "1", "--quiet"]) == 0
    ds = load_dataset(out)
    assert len(ds.labels) == 4 and not ds.no_hand.any()  # the HEIC and AVIF photos read, a hand found in each


def test_broken_heic_and_avif_photos_are_named_with_the_fix(tmp_path, capsys):
    """A phone photo's header with no picture after it: one line naming the file, not a trace."""
    from fingerspell.cli import main

    for name, brand in (("IMG_0001.HEIC", b"heic"), ("IMG_0002.avif", b"avif")):
        photo = tmp_path / name
        photo.write_bytes(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 200)
        assert main(["predict", "--json", str(photo)]) == 1
        out = capsys.readouterr().out
        assert f"cannot read image {photo}: it is corrupt or not an image" in out
    assert main(["predict", str(tmp_path)]) == 1  # in a folder: each listed, and counted
    out = capsys.readouterr().out
    assert out.count("it is corrupt or not an image") == 2 and "2 unreadable" in out
