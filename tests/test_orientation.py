"""Phone photos and videos are stored sideways with a tag saying how to turn them upright (EXIF
orientation, an MP4 display matrix). They must be read upright: the letters are not the same shapes
turned by 90 degrees (an upright L turned is read as G)."""

from __future__ import annotations

import subprocess

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


def test_heic_photos_are_named_with_the_fix(tmp_path, capsys):
    """An iPhone's default photo format, which OpenCV's wheel does not decode: a file given by name gets
    its one-line error; in a folder it is counted, not silently dropped."""
    from fingerspell.cli import main

    heic = tmp_path / "phone" / "IMG_0001.HEIC"
    heic.parent.mkdir()
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200)  # the header of a real HEIC, no picture
    assert main(["predict", "--json", str(heic)]) == 1
    assert "OpenCV does not read HEIC photos; export it as JPEG" in capsys.readouterr().out
    assert main(["predict", str(heic.parent)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 HEIC/AVIF photos" in err[0] and "export them as JPEG" in err[0]
