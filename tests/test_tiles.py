"""The closer look for small hands (hands/tiles.py): real photos placed small in large frames,
real MediaPipe, the shipped model; and a real upright video."""

from __future__ import annotations

import numpy as np

from fingerspell.hands.tiles import tiles


def test_squares_run_along_the_long_side_and_cover_the_frame():
    for w, h, n in ((640, 480, 2), (1920, 1080, 3), (1080, 1920, 3), (1280, 960, 2), (500, 480, 0)):
        squares = tiles(w, h)
        assert len(squares) == n, (w, h)
        if not n:
            continue
        short = min(w, h)
        covered = np.zeros((h, w), bool)
        for x0, y0, x1, y1 in squares:
            assert x1 - x0 == y1 - y0 == short and 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            covered[y0:y1, x0:x1] = True
        assert covered.all()


def test_dataset_builds_read_photos_as_before():
    from fingerspell.data.build import BuildOptions

    o = BuildOptions()
    assert o.detector_options().tile_look is False
    assert "tile_look" not in o.cache_settings()["detector"]  # the cache keys of earlier builds stand


def _small_l(data):
    """mon95 user_4's L, scaled so that the hand spans 6% of a 1920x1080 frame's width, centred."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from small_hands import placed

    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.hands.landmarks import landmark_box

    img = load_image(data / "mon95" / "user_4" / "L1.jpg")
    with HandDetector(mode="image", max_hands=1) as det:
        box = landmark_box(det.detect(img)[0].landmarks, (img.shape[1], img.shape[0]))
    return placed(img, box, 0.06, (1920, 1080))


def test_a_small_hand_in_an_hd_frame_is_found_in_a_square_and_read(data):
    import fingerspell
    from fingerspell.hands.detector import HandDetector

    frame = _small_l(data)
    with HandDetector(mode="image", max_hands=1, tile_look=False) as whole:
        assert whole.detect(frame) == []  # the palm detector misses it in the whole frame
    with HandDetector(mode="image", max_hands=1) as det:
        hands = det.detect(frame)
    assert len(hands) == 1
    x0, y0, x1, y1 = hands[0].box
    assert abs((x0 + x1) / 2 - 960) < 40 and abs((y0 + y1) / 2 - 540) < 60  # where the hand was put
    assert 60 < max(x1 - x0, y1 - y0) < 200
    with fingerspell.load() as reader:
        assert reader.predict(frame).letter == "L"


def test_an_upright_video_with_a_small_hand_reads_its_first_letter(data, tmp_path):
    """HELLO filmed upright (1080x1920), the hand a tenth of the frame's height: the tracker's palm
    detector found the hand only from the first L (LLO; at 0.25 of the height, ELLO); the closer look
    finds it from the H."""
    import fingerspell
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_of_hand, photo_word_frames, write_video

    shots = {}
    with HandDetector(mode="image", max_hands=1) as det:
        for letter in "EHLO":
            img = load_image(data / "mon95" / "user_7" / f"{letter}1.jpg")
            shots[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
    opts = PhotoVideoOptions(size=(1080, 1920), hand_height=0.2)
    frames, _ = photo_word_frames("HELLO", shots, np.random.default_rng(0), opts)
    write_video(frames, tmp_path / "upright.mp4", fps=30.0)
    with fingerspell.load() as reader:
        assert reader.read(str(tmp_path / "upright.mp4"), fps=30, learn=False, decode=False).text.strip() == "HELLO"
