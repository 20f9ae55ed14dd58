"""Labels that break the ASL convention in one source (mon95's T) are left out and counted."""

from __future__ import annotations

import shutil

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
