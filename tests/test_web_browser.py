"""The web app in a real browser: Debian's Chromium (headless, driven by Playwright) with a fake
camera that plays a .y4m video made here from real photos (asl-alphabets test) spelling CAT.

It checks that the page shows the spelled word, that practice mode marks letters right and wrong
(target COT, the video signs CAT: C right, A for O wrong, T right) and ends the round with a
summary, and it saves screenshots to test-artifacts/ (and docs/ when missing or with
FINGERSPELL_UPDATE_DOCS=1). Chromium comes from `make chromium` (run by `make test`); Playwright
never downloads a browser here.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from fingerspell.apps.web.options import default_options
from fingerspell.apps.web.server import ServerConfig, create_app
from fingerspell.apps.web.sessions import RecognizerFactory
from fingerspell.reading.photovideo import letterbox

CHROMIUM = "/usr/bin/chromium"
WORD = "CAT"
PRACTICE = "COT"
SIZE = (640, 480)
FPS = 30


def chromium() -> str:
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        pytest.fail("Chromium is missing: run `make chromium` (apt-get install chromium); the browser test never "
                    "skips", pytrace=False)
    return path


def write_y4m(data: Path, path: Path, word: str = WORD, hold_s: float = 2.5, gap_s: float = 0.3,
              lead_s: float = 1.5) -> Path:
    """A 640x480 30 fps .y4m: a hand-free lead, then a photo of each letter held ``hold_s`` seconds
    with brief hand-free transitions (one photo per hold: two photos of a letter are two hand
    positions, and a jump between them reads as a new letter)."""
    blank = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    frames = [blank] * int(lead_s * FPS)
    for i, letter in enumerate(word):
        photo = letterbox(cv2.imread(str(sorted((data / "asl-alphabets" / "test" / letter).glob("*.jpg"))[0])))
        frames += [photo] * int(hold_s * FPS)
        frames += [blank] * int((gap_s if i < len(word) - 1 else lead_s) * FPS)
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{SIZE[0]} H{SIZE[1]} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for bgr in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


@pytest.fixture(scope="module")
def server():
    import torch
    import uvicorn

    torch.set_num_threads(1)
    app = create_app(ServerConfig(), RecognizerFactory(default_options()))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, ws="websockets-sansio", log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{srv.servers[0].sockets[0].getsockname()[1]}"
    srv.should_exit = True
    thread.join(20)


@pytest.fixture(scope="module")
def camera_video(data, tmp_path_factory):
    return write_y4m(data, tmp_path_factory.mktemp("camera") / "cat.y4m")


@pytest.fixture()
def browser(camera_video):
    """A fresh browser per test: its fake camera plays the video from the start (a page opened in a
    browser that already played part of it would start mid-word)."""
    from playwright.sync_api import sync_playwright

    exe = chromium()
    video = camera_video
    args = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-quic",
            "--autoplay-policy=no-user-gesture-required"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=args)
        yield b
        b.close()


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 760}).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def wait_for_hand(page, timeout_s: float = 30.0) -> None:
    """Until the last reading shows a hand (for a screenshot with one); the page's CSP forbids
    Playwright's eval-based waits, so poll."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate("(() => { const r = window.fingerspell.last; return !!(r && r.hands.length); })()"):
            page.wait_for_timeout(100)
            return
        page.wait_for_timeout(100)


def test_page_spells_the_word_from_the_camera(browser, server, artifacts, to_docs):
    from playwright.sync_api import expect

    page, errors = open_page(browser, server + "/")
    expect(page.locator("#sentence")).to_contain_text(WORD, timeout=90_000)
    assert page.locator("#status").inner_text().startswith("connected")
    expect(page.locator("#learning")).to_contain_text("from your words")  # serve learns the person's hand
    assert page.evaluate("window.fingerspell.readings") > 20
    wait_for_hand(page)
    page.screenshot(path=str(artifacts / "web-spell.png"))
    to_docs(artifacts / "web-spell.png")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#btn-copy")  # the sentence as plain text on the clipboard, and said so
    expect(page.locator("#message")).to_contain_text("copied: ")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert WORD in copied and page.locator("#message").inner_text() == f"copied: {copied}"
    assert not errors, errors


def test_practice_marks_letters_right_and_wrong(browser, server, artifacts, to_docs):
    page, errors = open_page(browser, f"{server}/?mode=practice&word={PRACTICE}")
    page.wait_for_selector("#summary:not([hidden])", timeout=90_000)
    states = page.eval_on_selector_all("#target .cell", "cells => cells.map(c => c.dataset.state)")
    assert states == ["right", "wrong", "right"], (states, page.locator("#target").inner_text())
    assert "read A" in page.locator("#target .cell.wrong").inner_text()
    summary = page.locator("#summary").inner_text()
    assert f"{PRACTICE}: 2 of 3 right" in summary and "O (read A)" in summary, summary
    # the tip speaks of the two letters mixed up (no C/O tip for an O read as A)
    tip = page.locator("#summary li[data-letter='O']").inner_text()
    assert "O is all the fingertips" in tip and "A is a fist" in tip and "C leaves" not in tip, tip
    assert "letters/min" in summary
    progress = page.evaluate("JSON.parse(localStorage.getItem('fingerspell.practice.v1'))")
    assert progress["letters"]["O"] == {"right": 0, "wrong": 1} and progress["rounds"] == 1
    wait_for_hand(page)
    page.screenshot(path=str(artifacts / "web-practice.png"))
    to_docs(artifacts / "web-practice.png")
    page.click("#tab-chart")
    page.wait_for_timeout(300)
    assert page.locator("#chart .card").count() == 29
    page.screenshot(path=str(artifacts / "web-chart.png"), full_page=True)
    to_docs(artifacts / "web-chart.png")
    assert not errors, errors


def test_a_recorded_video_is_read_from_the_page(browser, server, data, artifacts, to_docs):
    """"Read a video": a file chosen on the page is read on the server; its sentence, words and a
    subtitle file come back, and Copy takes the sentence."""
    from _tiny_model import WORD, word_video
    from playwright.sync_api import expect

    page, errors = open_page(browser, server + "/?mode=video")
    page.set_input_files("#video-file", str(word_video(data)))
    page.click("#btn-read")
    expect(page.locator("#video-text")).to_have_text(WORD, timeout=90_000)
    expect(page.locator("#video-status")).to_contain_text("1 word(s)")
    assert page.locator("#video-words li").first.inner_text().startswith(WORD)
    with page.expect_download() as got:
        page.click("#srt-link")
    srt = open(got.value.path(), encoding="utf-8").read()
    assert srt.startswith("1\n") and f"\n{WORD}\n" in srt and got.value.suggested_filename == "book.srt"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#btn-video-copy")
    assert page.evaluate("navigator.clipboard.readText()") == WORD
    page.screenshot(path=str(artifacts / "web-video.png"))
    to_docs(artifacts / "web-video.png")
    assert not errors, errors
