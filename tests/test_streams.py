"""Network streams as sources: a phone camera app's MJPEG stream over http (served here by a
thread, as such apps serve it), a video file behind a URL, and an address nothing answers at."""

from __future__ import annotations

import functools
import http.server
import socketserver
import threading
import time

import cv2
import numpy as np
import pytest

from fingerspell.errors import FingerspellError
from fingerspell.runtime.sources import StreamSource, open_source


def _serve(handler) -> tuple:
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]


def _mjpeg_handler(frames, fps: float):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - the http.server name
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            for f in frames:
                jpg = cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
                try:
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpg)
                                     + jpg + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    return
                time.sleep(1.0 / fps)

    return Handler


@pytest.mark.parametrize("kind", ["stream", "camera"])
def test_a_live_camera_is_read_live(data, kind, monkeypatch):
    """HOLE spelled with a mon95 signer's photos, streamed live in real time (30 frames a second, as a
    phone camera app streams: MJPEG over http): a live source that gives the newest frame, stamped by
    the clock when it came (frames the reader had no time for are dropped), and reads the word. As a
    stream address, and as webcam 0 (``cv2.VideoCapture(0)`` opens that stream here: no camera in CI),
    the webcam path being the same thread as the stream's."""
    import fingerspell
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_of_hand, photo_word_frames
    from fingerspell.runtime.sources import CameraSource

    shots = {}
    with HandDetector(mode="image", max_hands=1) as det:
        for letter in "EHLO":
            img = load_image(data / "mon95" / "user_7" / f"{letter}1.jpg")
            shots[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
    # no double letter: a reader starved of CPU sees the bounce between two Ls in too few frames
    frames, _ = photo_word_frames("HOLE", shots, np.random.default_rng(0), PhotoVideoOptions())
    srv, port = _serve(_mjpeg_handler(frames, 30.0))
    url = f"http://127.0.0.1:{port}/video"
    spec, cls = url, StreamSource
    if kind == "camera":
        real = cv2.VideoCapture
        monkeypatch.setattr(cv2, "VideoCapture", lambda index, *a: real(url) if index == 0 else real(index, *a))
        spec, cls = 0, CameraSource
    try:
        src = open_source(spec)
        assert isinstance(src, cls) and src.is_live and src.frame_count is None
        (_, t0), (_, t1) = src.read(), src.read()
        time.sleep(0.5)  # the reader busy elsewhere: about 15 frames come meanwhile
        times = [src.read()[1] for _ in range(6)]
        src.close()
        assert t0 == 0.0 and 0 < t1 < 0.3 and times[0] > t1 + 0.4  # the newest frame, timed when it came
        # no backlog read in a burst after the pause: the frames come a camera's frame apart
        assert np.median(np.diff(times)) > 0.02, np.diff(times)
        assert src.dropped >= 8 and src.describe()["dropped"] == src.dropped
        with fingerspell.load() as reader:
            assert reader.read(spec, learn=False, decode=False).text.strip() == "HOLE"
    finally:
        srv.shutdown()


def test_a_video_file_behind_a_url_reads_as_a_file(tmp_path):
    from fingerspell.reading.photovideo import write_video

    frames = [np.full((240, 320, 3), 20 * i, np.uint8) for i in range(12)]
    write_video(frames, tmp_path / "clip.mp4", fps=10.0)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv, port = _serve(functools.partial(Quiet, directory=str(tmp_path)))
    try:
        with open_source(f"http://127.0.0.1:{port}/clip.mp4") as src:
            assert not src.is_live and src.frame_count == 12
            items = list(src)
        assert [round(t, 2) for _, t in items] == [i / 10 for i in range(12)]
        assert [round(float(np.median(f)) / 20) for f, _ in items] == list(range(12))  # in order
    finally:
        srv.shutdown()


def test_an_address_nothing_answers_at_is_one_line_without_the_password():
    srv, port = _serve(http.server.BaseHTTPRequestHandler)
    srv.shutdown()
    srv.server_close()  # the port is closed again
    with pytest.raises(FingerspellError) as exc:
        open_source(f"rtsp://me:hunter2@127.0.0.1:{port}/live")
    msg = str(exc.value)
    assert msg.startswith(f"cannot read the stream rtsp://me:***@127.0.0.1:{port}/live: check the address")
    assert "hunter2" not in msg and "\n" not in msg
