"""Train/test splits: stratified random, by group (signer or data set), and leave-one-group-out.

A random split of these photos puts near-copies (frames of one video, one signer's ten shots of a
letter) on both sides and flatters a model; group splits measure what matters, how it does on
people it has never seen. Every function returns sorted int64 index arrays.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Tuple

import numpy as np

from fingerspell.errors import FingerspellError


def stratified_split(labels: np.ndarray, test_fraction: float = 0.2, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Random split keeping each class's share: (train_idx, test_idx).

    Each class with at least two samples puts round(n * test_fraction) of them (at least one, and
    at least one left for training) into the test side; a class with one sample stays in train.
    """
    y = np.asarray(labels).reshape(-1)
    if not 0.0 < test_fraction < 1.0:
        raise FingerspellError(f"test fraction {test_fraction} must lie strictly between 0 and 1")
    rng = np.random.default_rng(seed)
    test = []
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        if idx.size < 2:
            continue
        k = min(idx.size - 1, max(1, int(round(idx.size * test_fraction))))
        test.append(rng.permutation(idx)[:k])
    test_idx = np.sort(np.concatenate(test)).astype(np.int64) if test else np.zeros(0, np.int64)
    train_mask = np.ones(y.size, bool)
    train_mask[test_idx] = False
    return np.flatnonzero(train_mask).astype(np.int64), test_idx


def group_split(groups: np.ndarray, test_groups: Iterable[str]) -> Tuple[np.ndarray, np.ndarray]:
    """Hold out whole groups: (train_idx, test_idx), test = samples whose group is in test_groups."""
    g = np.asarray(groups).astype(str).reshape(-1)
    wanted = [test_groups] if isinstance(test_groups, str) else list(test_groups)
    known = set(np.unique(g).tolist())
    missing = [t for t in wanted if t not in known]
    if not wanted or missing:
        raise FingerspellError(
            f"test groups {missing or wanted} are not in the data; its groups are: {', '.join(sorted(known))}"
        )
    test = np.isin(g, wanted)
    if test.all():
        raise FingerspellError(f"holding out {wanted} leaves nothing to train on: hold out fewer groups")
    return np.flatnonzero(~test).astype(np.int64), np.flatnonzero(test).astype(np.int64)


def leave_one_group_out(groups: np.ndarray) -> Iterator[Tuple[str, np.ndarray, np.ndarray]]:
    """One fold per group, in sorted order: (group, train_idx, test_idx) (scikit-learn's LeaveOneGroupOut)."""
    from sklearn.model_selection import LeaveOneGroupOut

    g = np.asarray(groups).astype(str).reshape(-1)
    names = sorted(set(g.tolist()))
    if len(names) < 2:
        raise FingerspellError(
            f"leave-one-group-out needs at least two groups, the data has {names}: add a source with signers"
        )
    for train_idx, test_idx in LeaveOneGroupOut().split(g, groups=g):
        yield str(g[test_idx[0]]), train_idx.astype(np.int64), test_idx.astype(np.int64)


__all__ = ["group_split", "leave_one_group_out", "stratified_split"]
