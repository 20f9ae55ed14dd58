"""Labels that break the ASL convention in one source (mon95's T) are left out and counted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from fingerspell.data.build import BuildOptions, build_arrays
from fingerspell.data.exceptions import LABEL_EXCEPTIONS, drop_exceptions, exception_for, exception_mask
from fingerspell.data.schema import DatasetArrays
from fingerspell.data.sources import scan_source
from fingerspell.labels import CLASSES


def test_the_table_names_mon95_t_with_a_reason():
    ex = exception_for("mon95", "T")
    assert ex is not None and "thumb" in ex.reason
    assert exception_for("mon95/user_3", "T") is ex
    assert exception_for("massey", "T") is None and exception_for("mon95", "A") is None
    assert all(e.reason for e in LABEL_EXCEPTIONS)


def test_scanning_mon95_leaves_its_t_out_and_counts_it(data, tmp_path):
    scan = scan_source(data / "mon95" / "user_3")
    labels = {it.label for it in scan.items}
    assert "T" not in labels and {"A", "G", "S"} <= labels
    assert scan.label_exceptions == {"mon95/T": 10}
    # A renamed copy of a mon95 folder is still mon95 (matched by its layout).
    user = tmp_path / "my_photos" / "user_9"
    user.mkdir(parents=True)
    for name in ("T0.jpg", "T1.jpg", "A0.jpg"):
        shutil.copy(data / "mon95" / "user_3" / name, user / name)
    copy = scan_source(tmp_path / "my_photos")
    assert [it.label for it in copy.items] == ["A"] and copy.label_exceptions == {"mon95/T": 2}
    # The same letter in another source stays.
    assert any(it.label == "T" for it in scan_source(data / "massey", limit_per_class=1).items)


def test_one_sessions_wrong_hand_shape_is_left_out_by_photo(data):
    """mon95 user_5's Y0-Y4 show the 'horns', not a Y: those five go, the same signer's Y5-Y9 stay."""
    ex = exception_for("mon95", "Y", path=str(data / "mon95" / "user_5" / "Y0.jpg"))
    assert ex is not None and "horns" in ex.reason and ex.key == "mon95/Y user_5 Y0-Y4"
    assert exception_for("mon95", "Y", path=str(data / "mon95" / "user_5" / "Y5.jpg")) is None
    assert exception_for("mon95", "Y", path=str(data / "mon95" / "user_4" / "Y0.jpg")) is None
    assert exception_for("mon95", "Y") is None  # no path: only a whole-label exception can apply
    scan = scan_source(data / "mon95" / "user_5")
    ys = sorted(Path(it.path).stem for it in scan.items if it.label == "Y")
    assert ys == [f"Y{i}" for i in range(5, 10)]
    assert scan.label_exceptions == {"mon95/T": 10, "mon95/Y user_5 Y0-Y4": 5}
    y = CLASSES.index("Y")
    rows = DatasetArrays(
        masks=np.zeros((3, 1, 1, 3), np.uint8), landmarks=np.zeros((3, 21, 3), np.float32),
        vectors=np.zeros((3, 100), np.float32), handedness=np.ones(3, np.int8),
        image_sizes=np.full((3, 2), 100, np.int32), labels=np.array([y, y, y]),
        groups=np.array(["mon95/user_5"] * 3), sources=np.array(["mon95"] * 3),
        paths=np.array(["/d/mon95/user_5/Y3.jpg", "/d/mon95/user_5/Y8.jpg", "/d/massey/y/Y3.jpg"]),
        no_hand=np.zeros(3, bool))
    kept, dropped = drop_exceptions(rows)
    assert kept.paths.tolist() == ["/d/mon95/user_5/Y8.jpg", "/d/massey/y/Y3.jpg"]
    assert dropped == {"mon95/Y user_5 Y0-Y4": 1}


def test_build_report_counts_the_left_out_photos(data, tmp_path):
    opts = BuildOptions(classes=("A", "T"), limit_per_class=1, cache_dir=str(tmp_path / "cache"), workers=1,
                        progress=False)
    arrays, report = build_arrays([data / "mon95" / "user_4"], opts)
    assert [CLASSES[i] for i in arrays.labels] == ["A"]
    assert report.label_exceptions == {"mon95/T": 10}
    assert report.to_dict()["label_exceptions"] == {"mon95/T": 10}
    assert "mon95/T 10 files" in report.format()


def test_rows_of_an_older_dataset_are_dropped_before_training_and_scoring():
    n = 4
    t, a = CLASSES.index("T"), CLASSES.index("A")
    data = DatasetArrays(
        masks=np.zeros((n, 1, 1, 3), np.uint8), landmarks=np.zeros((n, 21, 3), np.float32),
        vectors=np.zeros((n, 100), np.float32), handedness=np.ones(n, np.int8),
        image_sizes=np.full((n, 2), 100, np.int32), labels=np.array([t, a, t, t]),
        groups=np.array(["mon95/user_3", "mon95/user_3", "massey/hand1", "mon95/user_7"]),
        sources=np.array(["mon95", "mon95", "massey", "mon95"]), paths=np.array(["a", "b", "c", "d"]),
        no_hand=np.zeros(n, bool),
    )
    assert exception_mask(data.sources, data.labels, data.classes).tolist() == [True, False, False, True]
    kept, dropped = drop_exceptions(data)
    assert kept.paths.tolist() == ["b", "c"] and dropped == {"mon95/T": 2}


def _real_rows(data, photos) -> DatasetArrays:
    """Landmark rows of real photos through MediaPipe: (relative path, label, source) each."""
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.hands.landmarks import hand_vector

    vectors, labels, sources = [], [], []
    with HandDetector(backend="solutions", mode="image", max_hands=1, min_detection_confidence=0.5) as det:
        for rel, label, source in photos:
            hand = det.detect(load_image(data / rel))[0]
            vectors.append(hand_vector(hand))
            labels.append(CLASSES.index(label))
            sources.append(source)
    n = len(vectors)
    return DatasetArrays(
        masks=np.zeros((n, 1, 1, 3), np.uint8), landmarks=np.zeros((n, 21, 3), np.float32),
        vectors=np.stack(vectors), handedness=np.ones(n, np.int8), image_sizes=np.full((n, 2), 100, np.int32),
        labels=np.array(labels), groups=np.array(sources), sources=np.array(sources),
        paths=np.array([p for p, _, _ in photos]), no_hand=np.zeros(n, bool),
    )


def test_training_leaves_exceptions_out_and_folds_motion_letters(data, tmp_path):
    from fingerspell.training.options import TrainOptions
    from fingerspell.training.train import train

    photos = [(f"mon95/user_4/{c}{k}.jpg", c, "mon95") for c in "TAI" for k in (0, 5)]
    photos += [(f"massey/{c.lower()}/hand1_{c.lower()}_bot_seg_{k}_cropped.jpeg", c, "massey")
               for c in "JIZD" for k in (1, 2)]
    rows = _real_rows(data, photos)
    logs = []
    opts = TrainOptions.flat(data=("real photos",), model="landmark_mlp", out=str(tmp_path / "run"), epochs=1,
                             batch_size=4, val_fraction=0.0, patience=None, static_letters=True, plot=False,
                             progress=False, device="cpu")
    result = train(opts, train_data=rows, log=logs.append)
    card = json.loads(result.best_path.with_suffix(".json").read_text())
    counts = card["training"]["train_summary"]["classes"]
    assert counts == {"A": 2, "D": 4, "I": 6}  # mon95's T left out; J trained as I, Z as D
    assert card["training"]["options"]["static_letters"] is True
    assert any("mon95/T" in line for line in logs) and any("J->I" in line for line in logs)
