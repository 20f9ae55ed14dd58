"""Splits: stratified random, by group, leave-one-group-out."""

from __future__ import annotations

import numpy as np
import pytest

from fingerspell.data.splits import group_split, leave_one_group_out, stratified_split
from fingerspell.errors import FingerspellError


def test_stratified_split_keeps_class_shares_and_partitions():
    labels = np.repeat(np.arange(5), [10, 20, 30, 2, 1])
    train, test = stratified_split(labels, 0.2, seed=3)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(labels.size))
    counts = np.bincount(labels[test], minlength=5)
    assert counts.tolist() == [2, 4, 6, 1, 0]  # 20% each; a 2-sample class gives 1; a singleton stays in train
    again = stratified_split(labels, 0.2, seed=3)
    assert np.array_equal(again[1], test)
    other = stratified_split(labels, 0.2, seed=4)
    assert not np.array_equal(other[1], test)
    with pytest.raises(FingerspellError, match="between 0 and 1"):
        stratified_split(labels, 1.0, seed=0)


def test_group_split_holds_out_whole_groups():
    groups = np.array(["massey/hand1", "massey/hand2", "mon95/user_3", "massey/hand1", "mon95/user_3"])
    train, test = group_split(groups, ["mon95/user_3"])
    assert test.tolist() == [2, 4] and train.tolist() == [0, 1, 3]
    train, test = group_split(groups, "massey/hand2")
    assert test.tolist() == [1]
    with pytest.raises(FingerspellError, match="not in the data.*massey/hand1"):
        group_split(groups, ["mon95/user_9"])
    with pytest.raises(FingerspellError, match="nothing to train on"):
        group_split(groups, ["massey/hand1", "massey/hand2", "mon95/user_3"])


def test_leave_one_group_out_covers_each_group_once():
    groups = np.array(["b", "a", "c", "a", "b", "b"])
    folds = list(leave_one_group_out(groups))
    assert [f[0] for f in folds] == ["a", "b", "c"]
    seen = np.concatenate([f[2] for f in folds])
    assert np.array_equal(np.sort(seen), np.arange(groups.size))
    for name, train, test in folds:
        assert set(groups[test]) == {name} and name not in set(groups[train])
        assert train.size + test.size == groups.size
    with pytest.raises(FingerspellError, match="at least two groups"):
        list(leave_one_group_out(np.array(["a", "a"])))
