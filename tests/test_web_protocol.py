"""The web app's WebSocket protocol with the real recognizer (shipped model, real MediaPipe) on
real photos: frames in, readings out; bad frames; foreign origins; disconnects; several clients
at once over a real uvicorn server on loopback."""

from __future__ import annotations

import json
import struct
import threading
import time

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from fingerspell.apps.web.options import default_options
from fingerspell.apps.web.protocol import jpeg_size
from fingerspell.apps.web.security import RateCap, origin_problem
from fingerspell.apps.web.server import ServerConfig, check_listen, create_app, network_note
from fingerspell.apps.web.sessions import RecognizerFactory
from fingerspell.reading.photovideo import letterbox

BASE = "http://127.0.0.1:8000"
WS = "ws://127.0.0.1:8000/ws"
ORIGIN = {"origin": BASE}
FPS = 15


def photo_jpegs(data, letter: str, n: int = 4) -> list:
    """JPEG bytes of 640x480 camera-like frames of asl-alphabets test photos of ``letter``."""
    folder = data / "asl-alphabets" / "test" / letter
    files = sorted(folder.glob("*.jpg"))[:n]
    return [cv2.imencode(".jpg", letterbox(cv2.imread(str(f))), [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
            for f in files]


def frame(jpeg: bytes, t: float) -> bytes:
    return struct.pack("<4sd", b"FST1", t) + jpeg


@pytest.fixture(scope="module")
def model():
    """What ``fingerspell serve`` builds per connection with its default options (shipped model)."""
    import torch

    torch.set_num_threads(1)
    return RecognizerFactory(default_options())


@pytest.fixture
def client(model):
    # No rate cap here: these tests send frames as fast as replies come, which on a quiet machine is
    # well over the default 40 a second (the cap itself: test_rate_cap_drops_frames_beyond_the_limit).
    app = create_app(ServerConfig(max_frame_bytes=300_000, max_clients=3, max_fps=10_000.0), model)
    with TestClient(app, base_url=BASE) as c:
        yield c


def held(jpegs: list, i: int) -> bytes:
    """Frame ``i`` of a held hand: one photo (switching photos of a letter mid-hold would be a jump
    of the hand, which the hold reader rightly takes for a new letter)."""
    return jpegs[0]


def spell(ws, data, letters: str, t0: float = 0.0, hold_s: float = 2.5) -> list:
    """Send each letter's photos for ``hold_s`` seconds of frame time; the readings."""
    readings, t = [], t0
    for letter in letters:
        jpegs = photo_jpegs(data, letter)
        for i in range(int(hold_s * FPS)):
            ws.send_bytes(frame(held(jpegs, i), t))
            readings.append(ws.receive_json())
            t += 1.0 / FPS
    return readings


def test_frames_in_readings_out(client, data):
    blank = cv2.imencode(".jpg", np.zeros((480, 640, 3), np.uint8))[1].tobytes()
    with client.websocket_connect(WS, headers=ORIGIN) as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["max_frame_bytes"] == 300_000
        readings = spell(ws, data, "CA")
        pause = []
        for i in range(int(1.5 * FPS)):  # the hand goes away: the word is finished (and spoken by the page)
            ws.send_bytes(frame(blank, 5.0 + i / FPS))
            pause.append(ws.receive_json())
    assert not any(r["hands"] for r in pause) and [r["hold_state"] for r in pause][-1] == "no_hand"
    finished = [r["word"] for r in pause if r["word"]]
    assert len(finished) == 1 and finished[0]["spelled"] == "CA", finished
    assert len(pause[-1]["words"]) == 1 and pause[-1]["words"][0] == finished[0]["word"]
    # serve learns from the words spelled (in a background thread: how far it got is not asserted here)
    assert pause[-1]["adaptation"]["kind"] == "words" and pause[-1]["adaptation"]["off"] is None
    assert all(r["type"] == "reading" for r in readings)
    assert [r["frame"] for r in readings] == list(range(len(readings)))
    with_hand = [r for r in readings if r["hands"]]
    assert len(with_hand) >= 0.9 * len(readings)
    hand = with_hand[0]["hands"][0]
    assert len(hand["landmarks"]) == 21 and all(0 <= v <= 1 for p in hand["landmarks"] for v in p)
    assert 0 <= hand["box"][0] < hand["box"][2] <= 1 and with_hand[0]["size"] == [640, 480]
    written = [r["written"]["letter"] for r in readings if r["written"]]
    assert written == ["C", "A"]
    assert readings[-1]["sentence"].replace(" ", "") == "CA"
    assert readings[-1]["server_ms"] > 0 and "detection" in readings[-1]["timings_ms"]


def test_commands_edit_the_sentence(client, data):
    with client.websocket_connect(WS, headers=ORIGIN) as ws:
        ws.receive_json()
        spell(ws, data, "CAB")
        ws.send_text(json.dumps({"type": "space"}))
        reply = ws.receive_json()
        assert reply["type"] == "sentence" and reply["sentence"].startswith("C")
        learned = reply["adaptation"]["words"]
        assert learned == 1 and reply["words"] == ["CAB"]  # a word of the lexicon, sure: it teaches
        ws.send_text(json.dumps({"type": "reset"}))
        cleared = ws.receive_json()
        assert cleared["sentence"] == "" and cleared["words"] == []
        # Clear starts a new sentence and keeps what was learned of the signer (a reload forgets it)
        assert cleared["adaptation"]["kind"] == "words" and cleared["adaptation"]["words"] == learned
        ws.send_text(json.dumps({"type": "fly"}))
        bad = ws.receive_json()
        assert bad["type"] == "error" and bad["code"] == "bad_command" and "space" in bad["message"]


def test_bad_frames_get_clear_errors_and_the_connection_goes_on(client, data):
    good = photo_jpegs(data, "C", 1)[0]
    huge = cv2.imencode(".jpg", np.zeros((2200, 2200, 3), np.uint8))[1].tobytes()
    cases = {
        b"not a picture": ("bad_frame", "not a JPEG"),
        b"\xff\xd8\xff\xe0garbage": ("bad_frame", "JPEG"),
        good[: len(good) // 8]: ("bad_frame", "decoded"),
        good + b"\0" * 300_000: ("too_large", "cap of 300,000"),
        huge: ("too_large", "2200x2200"),
        b"FST1\x00": ("bad_frame", "header"),
        struct.pack("<4sd", b"FST1", float("nan")) + good: ("bad_frame", "finite"),
    }
    with client.websocket_connect(WS, headers=ORIGIN) as ws:
        ws.receive_json()
        for payload, (code, text) in cases.items():
            ws.send_bytes(payload)
            reply = ws.receive_json()
            assert reply["type"] == "error" and reply["code"] == code, reply
            assert text in reply["message"], reply
        ws.send_bytes(frame(good, 0.0))
        assert ws.receive_json()["type"] == "reading"
    assert client.get("/api/status").json()["errors"] >= len(cases)


def test_foreign_origins_are_refused(client):
    for origin, host in (("http://evil.example", None), ("http://127.0.0.1:9999", None),
                         ("null", None), ("http://rebind.example:8000", "rebind.example:8000")):
        headers = {"origin": origin}
        url = WS if host is None else f"ws://{host}/ws"
        with pytest.raises(WebSocketDenialResponse) as denied:
            with client.websocket_connect(url, headers=headers):
                pass
        assert denied.value.status_code == 403 and b"origin" in denied.value.content
    assert client.get("/api/status").json()["refused"] == 4
    with client.websocket_connect(WS) as ws:  # no Origin: a script, not a web page
        assert ws.receive_json()["type"] == "hello"


def test_allow_origin_and_origin_rules():
    assert origin_problem("http://localhost:8000", "localhost:8000") is None
    assert origin_problem("http://192.168.1.5:8000", "192.168.1.5:8000") is None
    assert origin_problem("https://[::1]", "[::1]:443") is None
    assert "not this server" in origin_problem("http://localhost:8001", "localhost:8000")
    assert "--allow-origin" in origin_problem("http://a.example:8000", "a.example:8000", names=set())
    assert origin_problem("https://a.example", "localhost:8000", allowed=["https://a.example/"]) is None


def test_disconnect_ends_the_session_and_its_thread(client, data):
    app = client.app
    with client.websocket_connect(WS, headers=ORIGIN) as ws:
        ws.receive_json()
        ws.send_bytes(frame(photo_jpegs(data, "C", 1)[0], 0.0))
        assert ws.receive_json()["type"] == "reading"
        (conn,) = app.state.connections.values()
        name = f"fingerspell-web-{conn.id}"
        assert any(t.name.startswith(name) for t in threading.enumerate())
    assert conn.closed.wait(10), "the session was not closed"
    assert conn.session is None
    deadline = time.monotonic() + 10
    while (app.state.connections or any(t.name.startswith(name + "_") for t in threading.enumerate())) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name.startswith(name + "_") for t in threading.enumerate()), "the worker thread is still there"
    assert client.get("/api/status").json()["open"] == 0


def test_connections_over_the_cap_are_told_to_come_back(client):
    with client.websocket_connect(WS, headers=ORIGIN) as a, client.websocket_connect(WS, headers=ORIGIN) as b, \
            client.websocket_connect(WS, headers=ORIGIN) as c:
        for ws in (a, b, c):
            assert ws.receive_json()["type"] == "hello"
        with client.websocket_connect(WS, headers=ORIGIN) as d:
            reply = d.receive_json()
            assert reply["code"] == "full" and "try again" in reply["message"]


def test_rate_cap_drops_frames_beyond_the_limit():
    now = [0.0]
    cap = RateCap(10, clock=lambda: now[0])
    assert sum(cap.allow() for _ in range(30)) == 10  # a one-second burst, then nothing
    now[0] += 0.5
    assert sum(cap.allow() for _ in range(30)) == 5
    assert cap.should_explain() and not cap.should_explain()


def test_jpeg_size_reads_the_header_only(data):
    jpeg = photo_jpegs(data, "A", 1)[0]
    assert jpeg_size(jpeg) == (640, 480)
    assert jpeg_size(b"\xff\xd8\xff\xda") is None


def test_network_note_says_when_the_server_is_open():
    assert "this computer only" in network_note("127.0.0.1", 8000, False)
    note = network_note("0.0.0.0", 8000, False)
    assert "OPEN TO THE NETWORK" in note and "https" in note


def test_serve_refuses_a_busy_port_and_a_bad_certificate_in_one_line(tmp_path):
    """A port another program holds, or a TLS file that is not a PEM certificate, fails before the
    model loads with one line naming it and the fix (uvicorn printed a bare ERROR line, or a
    traceback from ssl, after saying where to open the page)."""
    import socket
    import subprocess
    import sys

    from fingerspell.errors import FingerspellError

    bad = tmp_path / "cert.pem"
    bad.write_text("not a certificate\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(FingerspellError, match=f"port {port}: .*--port N"):
            check_listen("127.0.0.1", port)
        out = subprocess.run([sys.executable, "-m", "fingerspell", "serve", "--port", str(port)],
                             capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "Traceback" not in out.stderr and "open http" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"fingerspell serve: error: cannot listen on 127.0.0.1 port {port}: Address already in use: "
        "stop the program using it or pick another with --port N"]
    with pytest.raises(FingerspellError, match="cert.pem .*not a PEM certificate"):
        check_listen("127.0.0.1", 0, str(bad), str(bad))
    with pytest.raises(FingerspellError, match="No such file"):
        check_listen("127.0.0.1", 0, str(tmp_path / "none.pem"), str(tmp_path / "none.pem"))
    check_listen("127.0.0.1", 0)  # a free port passes


def test_real_server_on_loopback_keeps_clients_apart(model, data):
    """uvicorn on 127.0.0.1 with two clients at once: each gets its own session and sentence."""
    import uvicorn
    from websockets.sync.client import connect

    app = create_app(ServerConfig(max_fps=10_000.0), model)  # frames go as fast as replies come
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, ws="websockets-sansio", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    sentences = {}

    def client(letter: str) -> None:
        with connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}") as ws:
            assert json.loads(ws.recv(timeout=20))["type"] == "hello"
            jpegs = photo_jpegs(data, letter)
            for i in range(int(2.5 * FPS)):
                ws.send(frame(held(jpegs, i), i / FPS))
                reply = json.loads(ws.recv(timeout=20))
            sentences[letter] = reply["sentence"]

    try:
        workers = [threading.Thread(target=client, args=(x,)) for x in "CL"]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        assert {k: v.strip() for k, v in sentences.items()} == {"C": "C", "L": "L"}
    finally:
        server.should_exit = True
        thread.join(20)


def test_serve_command_options(capsys):
    from fingerspell.cli import main

    args = default_options(["--host", "0.0.0.0", "--port", "8123", "--allow-origin", "https://a.example"])
    assert (args.host, args.port, args.allow_origin, args.max_clients) == ("0.0.0.0", 8123, ["https://a.example"], 8)
    assert default_options().host == "127.0.0.1"
    assert main(["serve", "--ssl-certfile", "cert.pem"]) == 2
    assert "--ssl-keyfile" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--port", "70000"])


def test_a_recorded_video_is_read_with_its_words_and_subtitles(client, data):
    """"Read a video": the page POSTs a file; the sentence, each word's time and subtitles come back,
    and the file is not kept. Wrong files, too-large files and other sites get one line each."""
    import tempfile
    from pathlib import Path

    from _tiny_model import WORD, word_video

    before = set(Path(tempfile.gettempdir()).glob("fingerspell-read-*"))
    video = word_video(data).read_bytes()  # mon95 user 7 spells BOOK (a signer the tiny model never saw)
    r = client.post("/api/read?name=my%20clip.mp4", content=video)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["name"] == "my clip.mp4" and got["text"] == WORD and got["frames"] > 50
    [word] = got["words"]
    assert word["word"] == WORD and 0 <= word["start"] < word["end"]
    assert f"\n{WORD}\n" in got["srt"] and got["vtt"].startswith("WEBVTT")
    assert set(Path(tempfile.gettempdir()).glob("fingerspell-read-*")) == before  # nothing left behind
    assert got["note"] == ""
    import cv2
    import numpy as np

    blank = Path(tempfile.mkdtemp()) / "blank.mp4"  # no hand in it: the page is told why nothing came
    w = cv2.VideoWriter(str(blank), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (320, 240))
    for _ in range(8):
        w.write(np.full((240, 320, 3), 90, np.uint8))
    w.release()
    empty = client.post("/api/read?name=wall.mp4", content=blank.read_bytes()).json()
    assert empty["text"] == ""
    assert empty["note"].startswith("no letter read: no hand found in any of the 8 frames of wall.mp4")

    bad = client.post("/api/read?name=notes.txt", content=b"hello")
    assert bad.status_code == 400 and bad.json()["error"].startswith("notes.txt is not a video file")
    broken = client.post("/api/read?name=cut.mp4", content=video[:20000])  # the index at the end cut off
    assert broken.status_code == 400
    assert broken.json()["error"].startswith("cannot read video cut.mp4: it is corrupt")  # its name, not a temp path
    other = client.post("/api/read?name=a.mp4", content=video, headers={"Origin": "http://evil.example"})
    assert other.status_code == 403
    small = create_app(ServerConfig(max_video_bytes=1000), client.app.state.factory)
    with TestClient(small, base_url=BASE) as c:
        big = c.post("/api/read?name=big.mp4", content=video)
    assert big.status_code == 413 and "big.mp4 is over 0.001 MB" in big.json()["error"]

    def broken_model():
        raise RuntimeError("no model")

    with TestClient(create_app(ServerConfig(), broken_model), base_url=BASE) as c:
        failed = c.post("/api/read?name=a.mp4", content=video)  # an unexpected failure: one line, not a page
    assert failed.status_code == 500
    assert failed.json()["error"].startswith("reading a.mp4 failed on the server (RuntimeError: no model)")
