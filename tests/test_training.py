"""Training, evaluation and leave-one-group-out on a tiny real massey subset (MediaPipe on photos)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from _tiny_data import LETTERS, tiny_files

from fingerspell.cli import main
from fingerspell.data.schema import load_dataset
from fingerspell.errors import FingerspellError
from fingerspell.labels import CLASSES, NOTHING, index_of
from fingerspell.models import load_checkpoint
from fingerspell.training.evaluate import evaluate_arrays, evaluate_checkpoint
from fingerspell.training.logo import run_logo
from fingerspell.training.options import LogoOptions, TrainOptions
from fingerspell.training.train import lr_factor, train


@pytest.fixture(scope="session")
def tiny(data, tmp_path_factory):
    """(train.npz over signers hand1-3, test.npz over unseen signers hand4/hand5, photos with no hand)."""
    return tiny_files(data, tmp_path_factory.mktemp("tiny"))


def _opts(tiny, out, **kw) -> TrainOptions:
    base = dict(data=(str(tiny[0]),), model="landmark_mlp", out=str(out), val_data=(str(tiny[1]),),
                epochs=2, batch_size=32, progress=False, plot=False, threads=1)
    base.update(kw)
    return TrainOptions.flat(**base)


def test_tiny_data_is_real(tiny):
    train_set, test_set = load_dataset(tiny[0]), load_dataset(tiny[1])
    assert len(train_set) >= 150 and len(test_set) >= 60
    assert set(np.unique(train_set.groups)) == {"massey/hand1", "massey/hand2", "massey/hand3"}
    assert set(np.unique(test_set.groups)) == {"massey/hand4", "massey/hand5"}
    assert sorted({CLASSES[i] for i in test_set.labels}) == [c.upper() for c in LETTERS]


def test_landmark_mlp_beats_chance_on_unseen_signers(tiny, tmp_path):
    """5 letters (chance 0.2); trained on hand1-3 only, tested on hand4/hand5."""
    result = train(_opts(tiny, tmp_path / "mlp", epochs=25, val_data=(), val_fraction=0.0, lr=3e-3), log=lambda s: None)
    assert result.epochs_run == 25 and result.best_epoch == 24  # no validation: the last epoch is kept
    report = evaluate_checkpoint(result.best_path, [tiny[1]])
    assert report.accuracy >= 0.8, report.format()
    assert report.macro_f1 >= 0.75
    assert set(report.per_group) == {"massey/hand4", "massey/hand5"}
    assert all(g["accuracy"] >= 0.6 for g in report.per_group.values()), report.per_group
    assert set(report.per_class) == {c.upper() for c in LETTERS}


def test_run_folder_contents_and_card(tiny, tmp_path):
    out = tmp_path / "run"
    result = train(_opts(tiny, out, epochs=3, plot=True), log=lambda s: None)
    names = {p.name for p in out.iterdir()}
    assert {"best.safetensors", "best.json", "last.safetensors", "last.json", "last_state.safetensors",
            "last_state.json", "history.json", "curves.png"} <= names
    assert not [n for n in names if n.endswith(".part")]
    hist = json.loads((out / "history.json").read_text())["epochs"]
    assert [h["epoch"] for h in hist] == [0, 1, 2] and all(h["val_acc"] is not None for h in hist)
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = json.loads((out / "best.json").read_text())
    assert card["architecture"] == "landmark_mlp" and card["input_kind"] == "vector"
    assert card["training"]["data_files"] == [str(tiny[0])]
    summary = card["training"]["train_summary"]
    assert summary["samples"] == len(load_dataset(tiny[0])) and set(summary["classes"]) == {c.upper() for c in LETTERS}
    assert set(summary["groups"]) == {"massey/hand1", "massey/hand2", "massey/hand3"}
    assert card["metrics"]["val_acc"] == pytest.approx(max(h["val_acc"] for h in hist))
    assert card["metrics"]["epoch"] == result.best_epoch
    # an existing run is never overwritten silently
    with pytest.raises(FingerspellError, match="already holds a trained checkpoint"):
        train(_opts(tiny, out), log=lambda s: None)


def test_resume_continues_epoch_count(tiny, tmp_path):
    out = tmp_path / "resume"
    first = train(_opts(tiny, out, epochs=2, lr_schedule="cosine"), log=lambda s: None)
    assert first.last_epoch == 1
    state = json.loads((out / "last_state.json").read_text())
    assert state["next_epoch"] == 2 and state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(5e-4)
    second = train(_opts(tiny, out, epochs=4, lr_schedule="cosine", resume=True), log=lambda s: None)
    assert second.epochs_run == 2 and second.last_epoch == 3
    assert [h["epoch"] for h in second.history] == [0, 1, 2, 3]
    assert [h["epoch"] for h in json.loads((out / "history.json").read_text())["epochs"]] == [0, 1, 2, 3]
    # the cosine schedule goes on at epoch 2 of the (now 4-epoch) curve, not from the start
    lrs = [h["lr"] for h in second.history]
    assert lrs == pytest.approx([1e-3, 5e-4, 1e-3 * lr_factor("cosine", 2, 4), 1e-3 * lr_factor("cosine", 3, 4)])
    # a finished run has nothing left to do
    third = train(_opts(tiny, out, epochs=4, lr_schedule="cosine", resume=True), log=lambda s: None)
    assert third.epochs_run == 0
    with pytest.raises(FingerspellError, match="nothing to resume"):
        train(_opts(tiny, tmp_path / "empty", resume=True), log=lambda s: None)
    with pytest.raises(FingerspellError, match="is a landmark_mlp run"):
        train(_opts(tiny, out, model="cnn", epochs=5, resume=True), log=lambda s: None)


def test_resume_matches_uninterrupted_run(tiny, tmp_path):
    """Seeded per epoch, so 2 + 2 resumed epochs give the weights of 4 straight epochs."""
    straight = train(_opts(tiny, tmp_path / "a", epochs=4), log=lambda s: None)
    train(_opts(tiny, tmp_path / "b", epochs=2), log=lambda s: None)
    resumed = train(_opts(tiny, tmp_path / "b", epochs=4, resume=True), log=lambda s: None)
    assert [h["train_loss"] for h in resumed.history] == pytest.approx([h["train_loss"] for h in straight.history])
    a, _ = load_checkpoint(tmp_path / "a" / "last")
    b, _ = load_checkpoint(tmp_path / "b" / "last")
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.allclose(va.float(), vb.float(), atol=1e-6), k


def test_validation_choices(tiny, tmp_path):
    with pytest.warns(UserWarning, match="overstates accuracy"):
        from fingerspell.training.data import split_train_val

        tr, va, mode = split_train_val(load_dataset(tiny[0]), None, (), None, seed=0)
    assert 0.05 * (len(tr) + len(va)) < len(va) < 0.2 * (len(tr) + len(va))
    res = train(_opts(tiny, tmp_path / "g", val_data=(), val_groups=("massey/hand3",), epochs=1), log=lambda s: None)
    val_summary = res.card["training"]["val_summary"]
    assert val_summary["groups"] == {"massey/hand3": val_summary["samples"]}
    with pytest.raises(FingerspellError, match="massey/hand9"):
        train(_opts(tiny, tmp_path / "h", val_data=(), val_groups=("massey/hand9",)), log=lambda s: None)
    with pytest.raises(FingerspellError, match="only one of"):
        _opts(tiny, tmp_path / "x", val_fraction=0.2)


def test_mask_model_rerenders_to_input_size_and_weighting(tiny, tmp_path):
    res = train(_opts(tiny, tmp_path / "cnn", model="cnn", input_size=24, epochs=1, class_weighting=True,
                      batch_size=64), log=lambda s: None)
    model, card = load_checkpoint(res.best_path)
    assert card["input_kind"] == "mask" and card["input_size"] == 24
    assert card["training"]["options"]["class_weighting"] is True
    report = evaluate_checkpoint(res.best_path, [tiny[1]])  # test masks (32 px) are re-drawn at 24 px
    assert report.n == len(load_dataset(tiny[1]))


def test_freeze_backbone_then_finetune_top_stage(tiny, tmp_path):
    opts = _opts(tiny, tmp_path / "ft", model="cnn", epochs=1, freeze_backbone=True, finetune_epochs=1,
                 unfreeze_stages=1, batch_size=64, patience=None, balanced_sampling=True)
    train(opts.replace(epochs=1, finetune_epochs=0, out=str(tmp_path / "frozen_only")), log=lambda s: None)
    torch.manual_seed(opts.hyper.seed)  # the same initial weights as the runs build
    from fingerspell.models import build_model

    init = build_model("cnn", len(CLASSES), 32).state_dict()
    frozen, _ = load_checkpoint(tmp_path / "frozen_only" / "last")
    assert torch.equal(frozen.state_dict()["blocks.0.0.weight"], init["blocks.0.0.weight"])
    assert torch.equal(frozen.state_dict()["blocks.3.1.running_mean"], init["blocks.3.1.running_mean"])
    assert not torch.equal(frozen.state_dict()["classifier.1.weight"], init["classifier.1.weight"])
    res = train(opts, log=lambda s: None)
    assert [h["phase"] for h in res.history] == ["frozen", "finetune"]
    tuned, _ = load_checkpoint(tmp_path / "ft" / "last")
    assert torch.equal(tuned.state_dict()["blocks.0.0.weight"], init["blocks.0.0.weight"])
    assert not torch.equal(tuned.state_dict()["blocks.3.0.weight"], init["blocks.3.0.weight"])
    with pytest.raises(FingerspellError, match="no backbone to freeze"):
        train(_opts(tiny, tmp_path / "mlp", freeze_backbone=True), log=lambda s: None)


def test_evaluate_arrays_counts_missed_and_no_hand():
    classes = list(CLASSES)
    a, b, nothing = index_of("A"), index_of("B"), index_of(NOTHING)
    labels = np.array([a, a, b, b, nothing, nothing])
    preds = np.array([a, b, b, b, a, nothing])
    no_hand = np.array([False, False, False, True, True, False])
    rep = evaluate_arrays(preds, labels, np.array(["s1", "s1", "s1", "s2", "s2", "s2"]), classes,
                          n_missed=4, no_hand=no_hand)
    assert rep.accuracy == pytest.approx(4 / 6)
    # end to end: row 3 (B without a hand) turns wrong, row 4 (NOTHING without a hand) turns right,
    # and 4 photos without a hand were never in the arrays: (4 - 1 + 1) / (6 + 4)
    assert rep.end_to_end_n == 10 and rep.end_to_end_accuracy == pytest.approx(4 / 10)
    assert rep.per_group["s1"]["accuracy"] == pytest.approx(2 / 3) and rep.per_group["s2"]["n"] == 3
    assert rep.per_class["A"]["recall"] == pytest.approx(0.5) and rep.per_class["A"]["precision"] == pytest.approx(0.5)
    assert rep.confusion_labels == ["A", "B", NOTHING] and rep.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    probs = np.eye(len(classes))[preds] * 0.6 + 0.4 / len(classes)
    rep2 = evaluate_arrays(probs, labels, None, classes)
    assert rep2.accuracy == rep.accuracy and rep2.top3_accuracy >= rep2.accuracy and rep2.per_group == {}


def test_cli_train_evaluate_report(tiny, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["train", "--data", str(tiny[0]), "--model", "landmark_mlp", "--out", str(out), "--epochs", "3",
                 "--val-data", str(tiny[1]), "--no-progress", "--half", "--batch-size", "32", "--threads", "1"]) == 0
    card = json.loads((out / "best.json").read_text())
    assert card["weights_dtype"] == "float16"
    rep_dir = tmp_path / "report"
    assert main(["evaluate", "--checkpoint", str(out / "best"), "--data", str(tiny[1]), "--out", str(rep_dir),
                 "--missed", "7"]) == 0
    printed = capsys.readouterr().out
    assert "macro F1" in printed and "massey/hand4" in printed and "7 with no hand found" in printed
    report = json.loads((rep_dir / "report.json").read_text())
    assert report["n_missed"] == 7 and report["end_to_end_n"] == report["n"] + 7
    assert set(report["per_group"]) == {"massey/hand4", "massey/hand5"}
    assert (rep_dir / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    # no silent overwrite of a report or a run
    assert main(["evaluate", "--checkpoint", str(out / "best"), "--data", str(tiny[1]), "--out", str(rep_dir)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["train", "--data", str(tiny[0]), "--model", "landmark_mlp", "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", str(tmp_path / "nope" / "best"), "--data", str(tiny[1])]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_logo_folds(tiny, tmp_path):
    both = [str(tiny[0]), str(tiny[1])]
    opts = LogoOptions(train=TrainOptions.flat(data=tuple(both), model="landmark_mlp", out=str(tmp_path / "logo"),
                                          epochs=12, batch_size=32, lr=3e-3, progress=False, plot=False,
                                          threads=1),
                       groups=("massey/hand1", "massey/hand4", "massey/hand5"))
    from fingerspell.training.data import load_training_data

    res = run_logo(opts, data=load_training_data(both, "vector"), log=lambda s: None)
    assert list(res.folds) == ["massey/hand1", "massey/hand4", "massey/hand5"]
    for g, rep in res.folds.items():
        assert set(rep.per_group) == {g}  # each fold is tested on its held-out signer only
        assert (tmp_path / "logo" / f"fold_massey_{g.split('/')[1]}" / "eval" / "report.json").is_file()
    assert res.mean_accuracy >= 0.6
    assert res.pooled.n == sum(r.n for r in res.folds.values())
    summary = json.loads((tmp_path / "logo" / "logo.json").read_text())
    assert summary["mean_accuracy"] == pytest.approx(res.mean_accuracy)
    assert summary["std_accuracy"] == pytest.approx(np.std([r.accuracy for r in res.folds.values()], ddof=1))
    with pytest.raises(FingerspellError, match="already exists"):
        run_logo(opts)

    # Stopped part-way: hand4 killed while being evaluated, hand5 never started. --resume reuses
    # hand1, finishes hand4 from its last epoch and trains hand5 alone.
    import shutil

    shutil.rmtree(tmp_path / "logo" / "fold_massey_hand4" / "eval")
    shutil.rmtree(tmp_path / "logo" / "fold_massey_hand5")
    (tmp_path / "logo" / "logo.json").unlink()
    lines = []
    again = run_logo(replace(opts, train=opts.train.replace(resume=True)), data=load_training_data(both, "vector"),
                     log=lines.append)
    assert any(line.startswith("fold massey/hand1: trained before") for line in lines), lines
    assert not any("hand4: trained before" in line for line in lines)
    for g in ("massey/hand1", "massey/hand4"):  # the same weights read the same photos
        assert again.folds[g].accuracy == res.folds[g].accuracy
        assert again.folds[g].extra["best_epoch"] == res.folds[g].extra["best_epoch"] is not None
    assert again.folds["massey/hand5"].n == res.folds["massey/hand5"].n
    assert (tmp_path / "logo" / "logo.json").is_file()
    card_path = tmp_path / "logo" / "fold_massey_hand1" / "best.json"  # as if another --model had made it
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps({**card, "architecture": "cnn", "input_kind": "mask", "input_size": 64}))
    with pytest.raises(FingerspellError, match="holds a cnn model, not landmark_mlp"):
        run_logo(replace(opts, train=opts.train.replace(resume=True)), data=load_training_data(both, "vector"),
                 log=lambda s: None)


def test_init_from_checkpoint_and_missed_from_build_report(tiny, tmp_path):
    src = train(_opts(tiny, tmp_path / "src", epochs=2), log=lambda s: None)
    # a near-zero learning rate: the new run's weights stay those it started from
    res = train(_opts(tiny, tmp_path / "init", epochs=1, lr=1e-12, init_from=str(src.best_path)), log=lambda s: None)
    a, _ = load_checkpoint(src.best_path)
    b, _ = load_checkpoint(res.best_path)
    assert torch.allclose(a.net[1].weight, b.net[1].weight, atol=1e-6)
    fresh = train(_opts(tiny, tmp_path / "fresh", epochs=1, lr=1e-12), log=lambda s: None)
    c, _ = load_checkpoint(fresh.best_path)
    assert not torch.allclose(a.net[1].weight, c.net[1].weight, atol=1e-3)
    # evaluate reads the photos left out for want of a hand from <data>.report.json
    import shutil

    data_copy = tmp_path / "test_copy.npz"
    shutil.copy(tiny[1], data_copy)
    (tmp_path / "test_copy.npz.report.json").write_text(json.dumps({"no_hand_files": ["x.jpg", "y.jpg", "z.jpg"],
                                                                    "unreadable_files": []}))
    rep = evaluate_checkpoint(src.best_path, [data_copy])
    assert rep.n_missed == 3 and rep.end_to_end_n == rep.n + 3
    assert rep.end_to_end_accuracy == pytest.approx(rep.accuracy * rep.n / (rep.n + 3))


def test_evaluate_takes_a_shipped_model_name(tiny, capsys):
    assert main(["evaluate", "--model", "landmark_mlp", "--data", str(tiny[1])]) == 0
    assert "macro F1" in capsys.readouterr().out


def test_sign_offset_lowers_space_del_and_nothing_once(tiny, tmp_path):
    """The recipe's prior against the three non-letter signs: applied to the kept checkpoint, once."""
    from fingerspell.training.signs import SIGNS

    out = tmp_path / "signs"
    said = []
    train(_opts(tiny, out, epochs=2, val_data=(), val_fraction=0.0, sign_offset=2.0), log=said.append)
    assert any("scores lowered by 2" in s for s in said)
    best, card = load_checkpoint(out / "best")
    last, _ = load_checkpoint(out / "last")  # the resume point: the same epoch, without the offset
    assert card["sign_offset_applied"] == 2.0 and card["training"]["options"]["sign_offset"] == 2.0
    signs = [CLASSES.index(c) for c in SIGNS]
    x = torch.from_numpy(load_dataset(tiny[1]).vectors[:20])
    with torch.no_grad():
        diff = (best(x) - last(x)).numpy()
    assert np.allclose(diff[:, signs], -2.0, atol=1e-5)
    assert np.allclose(np.delete(diff, signs, axis=1), 0.0, atol=1e-6)
    # A finished run resumed does not lower them a second time.
    train(_opts(tiny, out, epochs=2, val_data=(), val_fraction=0.0, sign_offset=2.0, resume=True), log=lambda s: None)
    again, _ = load_checkpoint(out / "best")
    with torch.no_grad():
        assert np.allclose((again(x) - last(x)).numpy()[:, signs], -2.0, atol=1e-5)
    with pytest.raises(FingerspellError, match="--sign-offset"):
        _opts(tiny, tmp_path / "bad", sign_offset=-1.0)


def test_landmark_mlp_expert_splits_r_u_v_and_trains_with_the_main_model(tiny, tmp_path):
    """The R/U/V expert: its palm-frame numbers equal hands/shape.py's, it only re-divides the main
    model's R+U+V probability, the trainer trains it (its loss is added), and checkpoints keep it."""
    from fingerspell.hands.shape import pair_features as numpy_pairs
    from fingerspell.models.landmark_mlp import LandmarkMLP, pair_features
    from fingerspell.training.recipes import RECIPES

    vectors = load_dataset(tiny[1]).vectors.astype(np.float32)
    x = torch.from_numpy(vectors)
    got = pair_features(x).numpy()
    assert np.abs(got - numpy_pairs(vectors[:, :63].reshape(-1, 21, 3))).max() < 1e-4
    group = [CLASSES.index(c) for c in "RUV"]
    assert dict(RECIPES["vector"]["model_kwargs"])["expert_classes"] == tuple(group)
    kwargs = dict(RECIPES["vector"]["model_kwargs"])
    result = train(_opts(tiny, tmp_path / "expert", epochs=2, val_data=(), val_fraction=0.0,
                         model_kwargs=tuple(kwargs.items())), log=lambda s: None)
    model, card = load_checkpoint(result.best_path)
    assert card["build_kwargs"] == {"expert_classes": group} and isinstance(model, LandmarkMLP)
    fresh = LandmarkMLP(len(CLASSES), expert_classes=group)
    trained = dict(model.named_parameters())
    assert any(not torch.equal(p, trained[n]) for n, p in fresh.named_parameters() if n.startswith("expert."))
    with torch.no_grad():
        out = model(x)
        main = torch.log_softmax(model.net(x), 1)
    assert torch.allclose(out.exp().sum(1), torch.ones(len(x)), atol=1e-5)
    others = [i for i in range(len(CLASSES)) if i not in group]
    assert torch.allclose(out[:, others], main[:, others], atol=1e-5)  # the rest is the main model's
    assert torch.allclose(out[:, group].exp().sum(1), main[:, group].exp().sum(1), atol=1e-5)
    assert not torch.allclose(out[:, group], main[:, group], atol=1e-3)  # ... and the split is the expert's
    with pytest.raises(FingerspellError, match="expert_classes"):
        LandmarkMLP(len(CLASSES), expert_classes=(3,))
