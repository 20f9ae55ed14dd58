"""``fingerspell predict`` on real photos: right letters, the JSON keys, annotated copies that never
share a name or overwrite a file, a summary line."""

from __future__ import annotations

import json
import shutil

import cv2
import pytest

from fingerspell.cli import main

LETTERS = "ABCLY"


@pytest.fixture(scope="module")
def photos(data, tmp_path_factory):
    """mon95 user 7 (signer unseen by the shipped model's test split) as a/A.jpg..., and a same-named
    file in b/, plus a blank photo with no hand."""
    root = tmp_path_factory.mktemp("photos")
    for letter in LETTERS:
        (root / "a").mkdir(exist_ok=True)
        shutil.copy(data / "mon95" / "user_7" / f"{letter}0.jpg", root / "a" / f"{letter}.jpg")
    (root / "b").mkdir()
    shutil.copy(data / "mon95" / "user_7" / "A5.jpg", root / "b" / "A.jpg")
    blank = cv2.imread(str(root / "a" / "A.jpg")) * 0
    cv2.imwrite(str(root / "blank.png"), blank)
    return root


def _rows(out: str):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_json_lines_give_right_letters_and_keys(photos, capsys):
    assert main(["predict", str(photos / "a"), str(photos / "blank.png"), "--json"]) == 0
    cap = capsys.readouterr()
    rows = _rows(cap.out)
    assert len(rows) == len(LETTERS) + 1
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in rows}
    for row in rows:
        assert set(row) == {"path", "letter", "confidence", "top", "hand"}
    for letter in LETTERS:
        row = by_name[f"{letter}.jpg"]
        assert row["hand"] is True and row["letter"] == letter, row
        assert len(row["top"]) == 3 and row["top"][0] == [row["letter"], row["confidence"]]
        assert all(len(pair) == 2 and isinstance(pair[1], float) for pair in row["top"])
    blank = by_name["blank.png"]
    assert blank["hand"] is False and blank["letter"] is None and blank["top"] == []
    assert "6 images: 5 with a hand, 1 without" in cap.err  # the summary, off stdout in --json mode


def test_table_and_annotated_copies_never_share_a_name(photos, tmp_path, capsys):
    out = tmp_path / "annotated"
    args = ["predict", str(photos / "a" / "A.jpg"), str(photos / "b" / "A.jpg"), str(photos / "a"), "--out", str(out)]
    assert main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t")[:2] == ["path", "letter"]
    assert lines[-1].startswith("6 images: 6 with a hand")  # a/A.jpg given twice is read once
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["A-2.jpg", "A.jpg", "a/B.jpg", "a/C.jpg", "a/L.jpg", "a/Y.jpg"]
    assert cv2.imread(str(out / "A.jpg")).shape == cv2.imread(str(photos / "a" / "A.jpg")).shape
    # A second run keeps the user's files unless told to overwrite them.
    assert main(args) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0


def test_out_never_writes_over_an_input(photos, capsys):
    assert main(["predict", str(photos / "a" / "B.jpg"), "--out", str(photos / "a"), "--overwrite"]) == 2
    assert "would write over the input" in capsys.readouterr().err


def test_files_a_folder_read_passes_over_are_named(photos, tmp_path, capsys):
    """A GIF, a note and a .DS_Store beside the photos: the photos are read, and one line says
    what was passed over (not the hidden file); a GIF named on the command line is read."""
    from PIL import Image

    folder = tmp_path / "mixed"
    shutil.copytree(photos / "a", folder)
    Image.open(photos / "a" / "B.jpg").save(folder / "B.gif")
    (folder / "notes.txt").write_text("which letters\n")
    (folder / ".DS_Store").write_bytes(b"\0\1")
    assert main(["predict", str(folder)]) == 0
    cap = capsys.readouterr()
    assert cap.out.strip().splitlines()[-1].startswith(f"{len(LETTERS)} images: {len(LETTERS)} with a hand")
    notes = [line for line in cap.err.splitlines() if "passed over" in line]
    assert notes == ["fingerspell predict: note: passed over 2 files in the folders that are not of the photo types "
                     "read there (.gif 1, .txt 1); name a file on the command line to read it anyway"]
    assert main(["predict", str(folder / "B.gif"), "--json"]) == 0
    (row,) = _rows(capsys.readouterr().out)
    assert row["letter"] == "B" and row["hand"] is True


def test_missing_path_is_one_line_error(tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nope.jpg")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]


def test_a_video_is_pointed_to_run(photos, data, capsys):
    from _tiny_model import word_video

    video = word_video(data)  # a real video file: predict reads still images only
    assert main(["predict", str(photos / "a" / "B.jpg"), str(video)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a video" in err[0] and f"fingerspell run --source {video}" in err[0]


def test_profile_that_is_missing_is_a_clear_error(photos, tmp_path, capsys):
    assert main(["predict", str(photos / "a" / "B.jpg"), "--profile", str(tmp_path / "me.profile")]) == 2
    err = capsys.readouterr().err
    assert "profile" in err and len(err.strip().splitlines()) == 1


def test_profile_from_calibrate_is_applied(photos, data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FINGERSPELL_PROFILES", str(tmp_path / "profiles"))
    mine = tmp_path / "me"
    for letter in "RU":
        (mine / letter).mkdir(parents=True)
        for k in (0, 5):
            shutil.copy(data / "mon95" / "user_4" / f"{letter}{k}.jpg", mine / letter / f"{k}.jpg")
    assert main(["calibrate", "--source", str(mine), "--out", "me"]) == 0
    capsys.readouterr()
    photo = str(data / "mon95" / "user_4" / "R2.jpg")
    assert main(["predict", photo, "--json", "--profile", "me"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["letter"] == "R" and row["hand"] is True
