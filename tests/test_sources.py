"""Frame sources: cameras, videos, image folders, and the errors a user meets with them."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest
from _tiny_model import letterbox, mon95

from fingerspell.errors import FingerspellError
from fingerspell.runtime.sources import CameraSource, ImageFolderSource, VideoSource, open_source
from fingerspell.runtime.video_out import bundled_ffmpeg


def _numbered_frames(n: int) -> list:
    frames = []
    for i in range(n):
        f = np.zeros((480, 640, 3), np.uint8)
        f[:, :] = (i * 20) % 256  # frame i has grey level 20*i: checks order after decoding
        cv2.putText(f, str(i), (200, 300), cv2.FONT_HERSHEY_SIMPLEX, 5, (255, 255, 255), 8)
        frames.append(f)
    return frames


def _write(path, frames, fourcc="mp4v", fps=10.0):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (640, 480))
    assert w.isOpened()
    for f in frames:
        w.write(f)
    w.release()
    return path


def test_missing_camera_gives_a_clear_error():
    with pytest.raises(FingerspellError) as exc:
        open_source("99")
    msg = str(exc.value)
    assert "camera 99 could not be opened" in msg and "--source" in msg and "\n" not in msg
    with pytest.raises(FingerspellError, match="camera 99"):
        CameraSource(99)


def test_missing_and_unreadable_files_give_clear_errors(tmp_path):
    with pytest.raises(FingerspellError, match="nope.mp4 does not exist"):
        open_source(str(tmp_path / "nope.mp4"))
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 100)
    with pytest.raises(FingerspellError, match="cannot read video .*garbage.mp4"):
        open_source(str(garbage))
    notes = tmp_path / "notes.txt"  # FFmpeg would play a text file as a video of the text drawn on a terminal
    notes.write_text("a README, not a video\n" * 50)
    with pytest.raises(FingerspellError, match=r"video .*notes.txt is a text file, not a video: give a video file"):
        open_source(str(notes))
    sound = tmp_path / "voice.webm"  # a recording with sound only, named like a video
    subprocess.run([bundled_ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1",
                    "-c:a", "libopus", str(sound)], check=True)
    with pytest.raises(FingerspellError, match=r"video .*voice.webm holds no picture, only audio: give a video file$"):
        open_source(str(sound))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FingerspellError, match="holds no images"):
        open_source(str(empty))
    sound.rename(empty / "clip.webm")  # a folder of clips: says to give one of them
    with pytest.raises(FingerspellError, match=r"holds no images .*; it holds videos \(clip.webm\): give one with"):
        open_source(str(empty))


def test_video_frames_come_in_order_with_video_time(tmp_path):
    path = _write(tmp_path / "v.mp4", _numbered_frames(12), fps=10.0)
    with open_source(str(path)) as src:
        assert isinstance(src, VideoSource) and src.fps == pytest.approx(10.0) and src.frame_count == 12
        items = list(src)
    assert [round(t, 3) for _, t in items] == [round(i / 10, 3) for i in range(12)]
    levels = [int(np.median(f[:, 600:])) for f, _ in items]
    assert all(abs(level - (20 * i) % 256) <= 6 for i, level in enumerate(levels))
    assert not src.ended_early


def test_a_variable_frame_rate_video_is_timed_by_its_timestamps(tmp_path):
    """A phone films fewer frames a second in dim light: 12 frames at 10 fps, then every other frame
    of 12 more (5 fps). The frames keep the file's times, not index / mean rate (which stretched the
    first half and squeezed the second); ``fps=`` still forces index / fps."""
    import subprocess

    from fingerspell.runtime.video_out import bundled_ffmpeg

    cfr = _write(tmp_path / "cfr.mp4", _numbered_frames(24), fps=10.0)
    subprocess.run([bundled_ffmpeg(), "-y", "-loglevel", "error", "-i", str(cfr), "-vf",
                    "select='lt(n,12)+not(mod(n,2))'", "-fps_mode", "vfr", "-c:v", "libx264",
                    str(tmp_path / "vfr.mp4")], check=True)
    with open_source(str(tmp_path / "vfr.mp4")) as src:
        times = [round(t, 2) for _, t in src]
        mean_fps = src.fps
    assert times == [i / 10 for i in range(12)] + [round(1.2 + 0.2 * i, 2) for i in range(6)]
    assert 7 < mean_fps < 9  # what index / fps would have timed the frames by
    with VideoSource(tmp_path / "vfr.mp4", fps=10.0) as src:
        assert [round(t, 2) for _, t in src][-1] == 1.7


def test_truncated_avi_ends_cleanly_and_keeps_what_was_read(tmp_path):
    path = _write(tmp_path / "t.avi", _numbered_frames(40), fourcc="MJPG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with open_source(str(path)) as src:
        n = sum(1 for _ in src)
    assert 5 < n < 40
    assert src.ended_early and "truncated" in src.message
    # An mp4 whose index (written last) was cut off cannot be opened at all: a clear error.
    mp4 = _write(tmp_path / "t.mp4", _numbered_frames(40))
    data = mp4.read_bytes()
    mp4.write_bytes(data[: len(data) // 2])
    with pytest.raises(FingerspellError, match="cannot read video"):
        open_source(str(mp4))


def test_image_folder_sorted_at_fps_and_skips_broken_images(tmp_path, data):
    folder = tmp_path / "frames"
    folder.mkdir()
    for name, letter in (("002.jpg", "B"), ("000.jpg", "A"), ("001.png", "C")):
        cv2.imwrite(str(folder / name), letterbox(mon95(data, 3, letter, 0)))
    (folder / "003.jpg").write_bytes(b"broken")
    (folder / "notes.txt").write_text("not an image")
    (folder / ".DS_Store").write_bytes(b"\0")
    with open_source(str(folder), fps=4.0) as src:
        assert isinstance(src, ImageFolderSource) and src.frame_count == 4
        items = list(src)
    assert [t for _, t in items] == [0.0, 0.25, 0.5]
    assert all(f.shape == (480, 640, 3) for f, _ in items)
    assert src.skipped == [str(folder / "003.jpg")]
    assert src.passed_over == ["notes.txt"] and src.describe()["passed_over"] == ["notes.txt"]  # not the hidden file
    with open_source(str(folder / "001.png")) as single:
        assert len(list(single)) == 1
    with pytest.raises(FingerspellError, match="--fps"):
        ImageFolderSource(folder, fps=0)
