"""The Python API: the README's 3-line example runs as written, photos always get an answer,
streams yield frame results, and importing fingerspell stays light."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

import fingerspell
from fingerspell.errors import FingerspellError


def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def reader():
    with fingerspell.load() as r:
        yield r


def test_readme_example_runs_as_written(data, tmp_path, monkeypatch, capsys):
    code = readme_example()
    assert len(code.strip().splitlines()) == 3
    photo = tmp_path / "photo.jpg"
    photo.write_bytes((data / "mon95" / "user_7" / "L0.jpg").read_bytes())
    monkeypatch.chdir(tmp_path)  # the example reads "photo.jpg"
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "L"


def test_predict_result_fields_and_plot(reader, data):
    path = data / "massey" / "y" / "hand5_y_dif_seg_5_cropped.jpeg"  # a hand filling the photo: bordered retry
    result = reader.predict(path)
    assert result.hand and result.letter == "Y"
    assert 0.0 < result.confidence <= 1.0 and len(result.top) == 3 and result.top[0][0] == "Y"
    img = result.plot()
    assert img.shape == result.image.shape and not np.array_equal(img, result.image)
    assert result.to_dict()["path"] == str(path)


def test_a_photo_without_a_hand_still_gets_an_answer(reader):
    result = reader.predict(np.full((240, 320, 3), 90, np.uint8))
    assert (result.letter, result.hand, result.top) == (None, False, [])
    assert result.plot().shape == (240, 320, 3)


def test_stream_yields_frame_results_with_the_sentence(reader, data, tmp_path):
    import shutil

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(15):  # one letter held still for 1.5 s at 10 fps
        shutil.copy(data / "mon95" / "user_7" / "B0.jpg", folder / f"{i:03d}.jpg")
    *results, end = reader.stream(folder, fps=10)
    assert len(results) == 15 and [r.index for r in results] == list(range(15))
    assert results[-1].best.label == "B" and results[-1].sentence == "B"
    assert end.index == 15 and not end.hands and end.reading.word.spelled == "B"


def test_import_is_light():
    code = "import sys, fingerspell; print(sorted(m for m in ('torch', 'cv2', 'mediapipe') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert callable(fingerspell.load)
    # loading the shipped landmark model leaves torchvision (1.8 s to import) to the CNNs
    code = "import sys, fingerspell; fingerspell.load(); print('torchvision' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-2:] == ["False", "True"]


def test_stream_and_read_decode_and_learn_as_run_does(reader, data):
    from _tiny_model import WORD, word_frames, word_video

    video = word_video(data)  # mon95 user 7 spells BOOK on real photos, 10 fps
    results = list(reader.stream(video))
    n_frames = len(word_frames(data))
    assert len(results) == n_frames + 1 and results[-1].index == n_frames
    *frames, end = results
    assert frames[-1].current_word == WORD  # still being spelled when the video ends
    assert not end.hands and end.reading.word is not None and end.reading.word.word == WORD
    assert end.sentence.strip() == WORD and end.current_word == ""
    # the decoder was sure of a lexicon word, so the model learnt the signer's letters from it
    assert end.adaptation["kind"] == "words" and end.adaptation["words"] == 1 and end.adaptation["letters"] >= 3

    plain = reader.read(video, decode=False)
    assert plain.text.strip() == WORD and plain.frames == n_frames
    assert [(w.spelled, w.word, w.accepted) for w in plain.words] == [(WORD, WORD, False)]
    with pytest.raises(FingerspellError, match="lexicon has no effect"):
        reader.read(video, decode=False, lexicon=video)


def test_read_says_what_it_could_not_read(reader, data, tmp_path):
    """A folder whose images are all unreadable raises (as ``fingerspell run`` does) instead of an
    empty transcript; an unreadable image among good ones is skipped and named in the transcript."""
    import shutil

    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "000.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(FingerspellError, match="gave no frames: unreadable .*000.jpg"):
        reader.read(folder)
    with pytest.raises(FingerspellError, match="gave no frames"):
        list(reader.stream(folder))
    for i in range(1, 8):
        shutil.copy(data / "mon95" / "user_7" / "B0.jpg", folder / f"{i:03d}.jpg")
    (folder / "notes.txt").write_text("B")
    got = reader.read(folder, decode=False)
    assert got.frames == 7 and got.skipped == [str(folder / "000.jpg")] and got.ended_early == ""
    assert got.passed_over == ["notes.txt"]
