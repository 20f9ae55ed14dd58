"""The train command under torchrun: 2 CPU processes (gloo), DistributedDataParallel, one writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _tiny_data import tiny_files

from fingerspell.data.schema import load_dataset

TORCHRUN = Path(sys.executable).with_name("torchrun")


@pytest.fixture(scope="session")
def tiny(data, tmp_path_factory):
    return tiny_files(data, tmp_path_factory.mktemp("tiny"))


def test_torchrun_two_processes_write_one_checkpoint(tiny, tmp_path):
    assert TORCHRUN.is_file(), f"torchrun not found beside {sys.executable}"
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("WORLD_SIZE", None)
    cmd = [str(TORCHRUN), "--nproc_per_node=2", "--standalone", "-m", "fingerspell", "train",
           "--data", str(tiny[0]), "--val-data", str(tiny[1]), "--model", "landmark_mlp", "--out", str(out),
           "--epochs", "2", "--batch-size", "32", "--device", "cpu", "--no-progress"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-3000:]
    # only rank 0 speaks and writes
    assert log.count("training landmark_mlp") == 1, log[-3000:]
    assert log.count("epoch 2/2") == 1
    weights = sorted(p.name for p in out.glob("*.safetensors"))
    assert weights == ["best.safetensors", "last.safetensors", "last_state.safetensors"]
    assert not list(out.glob("*.part"))
    card = json.loads((out / "best.json").read_text())
    assert card["training"]["world_size"] == 2 and card["training"]["device"] == "cpu"
    hist = json.loads((out / "history.json").read_text())["epochs"]
    assert [h["epoch"] for h in hist] == [0, 1]
    # both shards together cover the whole training set each epoch (DistributedSampler, all-reduced metrics)
    assert card["training"]["train_summary"]["samples"] == len(load_dataset(tiny[0]))
    assert 0.0 <= hist[-1]["train_acc"] <= 1.0 and hist[-1]["val_acc"] is not None
    # the checkpoint loads in a single process
    from fingerspell.models import load_checkpoint

    model, card2 = load_checkpoint(out / "best")
    assert card2["architecture"] == "landmark_mlp"
