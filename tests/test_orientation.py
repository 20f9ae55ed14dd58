"""Phone photos and videos are stored sideways with a tag saying how to turn them upright (EXIF
orientation, an MP4 display matrix). They must be read upright: the letters are not the same shapes
turned by 90 degrees (an upright L turned is read as G)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


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


def test_a_phone_video_is_read_upright(data, tmp_path):
    import fingerspell
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_of_hand, photo_word_frames, write_video
    from fingerspell.runtime.sources import VideoSource
    from fingerspell.runtime.video_out import bundled_ffmpeg

    shots = {}
    with HandDetector(mode="image", max_hands=1) as det:
        for letter in "EHLO":
            img = load_image(data / "mon95" / "user_7" / f"{letter}1.jpg")
            shots[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
    frames, _ = photo_word_frames("HELLO", shots, np.random.default_rng(0), PhotoVideoOptions(size=(480, 640)))
    # stored as a phone stores an upright film: each frame turned a quarter clockwise, tagged to turn back
    write_video([np.ascontiguousarray(np.rot90(f, k=-1)) for f in frames], tmp_path / "stored.mp4", fps=30.0)
    ffmpeg = bundled_ffmpeg()
    assert ffmpeg, "imageio-ffmpeg's ffmpeg is a dependency"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(tmp_path / "stored.mp4"),
                    "-c", "copy", str(tmp_path / "phone.mp4")], check=True)
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
    """An iPhone's default photo format: read by name, in a folder, by build-dataset, and upright."""
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
    with fingerspell.load() as reader:
        assert reader.predict(heic).letter == "L"
    assert main(["predict", "--json", str(tmp_path / "phone")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert sorted(Path(r["path"]).name for r in rows) == ["IMG_0001.HEIC", "IMG_0002.jpg"]
    assert all(r["letter"] == "L" for r in rows)
    a = tmp_path / "phone" / "A"
    a.mkdir()
    (a / "A1.jpg").symlink_to(data / "mon95" / "user_7" / "A1.jpg")
    out = tmp_path / "phone.npz"
    assert main(["build-dataset", str(tmp_path / "phone"), "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                 "--workers", "1", "--quiet"]) == 0
    ds = load_dataset(out)
    assert len(ds.labels) == 3 and not ds.no_hand.any()  # both HEIC photos read, a hand found in each


def test_avif_and_broken_heic_photos_are_named_with_the_fix(tmp_path, capsys):
    """AVIF, which neither OpenCV nor pillow-heif decodes here: a file given by name gets its one-line
    error; in a folder it is counted, not silently dropped. A broken HEIC is named as unreadable."""
    from fingerspell.cli import main

    avif = tmp_path / "phone" / "IMG_0001.AVIF"
    avif.parent.mkdir()
    avif.write_bytes(b"\x00\x00\x00\x1cftypavif" + b"\x00" * 200)  # the header of an AVIF, no picture
    assert main(["predict", "--json", str(avif)]) == 1
    assert "AVIF photos cannot be read here; export it as JPEG" in capsys.readouterr().out
    assert main(["predict", str(avif.parent)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 AVIF photos" in err[0] and "export them as JPEG" in err[0]
    heic = tmp_path / "IMG_0002.HEIC"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200)  # the header of a HEIC, no picture
    assert main(["predict", "--json", str(heic)]) == 1
    assert "it is corrupt or not an image" in capsys.readouterr().out
