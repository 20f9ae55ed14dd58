"""Leave-one-group-out: how well a model does on a signer it has never seen.

For each group (signer) one model is trained on every other group and evaluated on the held-out
one; the folds' accuracies give mean +- std (sample std over folds) and the pooled predictions give
one accuracy over all rows. Random splits overstate accuracy because one signer's near-identical
frames land on both sides; this is the honest number.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np

from fingerspell.data import splits
from fingerspell.data.schema import DatasetArrays
from fingerspell.errors import FingerspellError
from fingerspell.features import input_for
from fingerspell.models.checkpoint import atomic_write_json, load_checkpoint, read_card
from fingerspell.models.registry import input_kind
from fingerspell.training import data as tdata
from fingerspell.training.evaluate import EvalReport, align_labels, evaluate_arrays, predict
from fingerspell.training.options import LogoOptions
from fingerspell.training.train import train


@dataclass
class LogoResult:
    """Per-fold reports and their summary."""

    folds: Dict[str, EvalReport]
    mean_accuracy: float
    std_accuracy: float
    mean_macro_f1: float
    std_macro_f1: float
    pooled: EvalReport
    seconds: float

    def summary(self) -> dict:
        return {
            "folds": {g: {"n": r.n, "accuracy": r.accuracy, "macro_f1": r.macro_f1,
                          "end_to_end_accuracy": r.end_to_end_accuracy} for g, r in self.folds.items()},
            "mean_accuracy": self.mean_accuracy, "std_accuracy": self.std_accuracy,
            "mean_macro_f1": self.mean_macro_f1, "std_macro_f1": self.std_macro_f1,
            "pooled_accuracy": self.pooled.accuracy, "pooled_macro_f1": self.pooled.macro_f1,
            "seconds": round(self.seconds, 1),
        }

    def format(self) -> str:
        lines = [f"{'held-out group':<28} {'n':>6} {'accuracy':>9} {'macro F1':>9}"]
        for g, r in self.folds.items():
            lines.append(f"{g:<28} {r.n:>6} {r.accuracy:>9.4f} {r.macro_f1:>9.4f}")
        lines.append(f"{'mean +- std':<28} {'':>6} {self.mean_accuracy:.4f} +- {self.std_accuracy:.4f}   "
                     f"F1 {self.mean_macro_f1:.4f} +- {self.std_macro_f1:.4f}")
        lines.append(f"{'pooled':<28} {self.pooled.n:>6} {self.pooled.accuracy:>9.4f} {self.pooled.macro_f1:>9.4f}")
        return "\n".join(lines)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "group"


def _std(values: List[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def run_logo(
    options: LogoOptions, data: Optional[DatasetArrays] = None, log: Optional[Callable[[str], None]] = None,
) -> LogoResult:
    """Train and evaluate one fold per held-out group; writes ``<out>/fold_<group>/`` and ``<out>/logo.json``.

    Validation inside a fold comes from the training groups only (``val_groups``/``val_fraction`` of
    ``options.train``); with none given the folds train for a fixed number of epochs.
    """
    t0 = time.perf_counter()
    say = log or print
    topt = options.train
    inp = input_for(input_kind(topt.model.name), topt.data.input_size)
    if data is None:
        data = tdata.load_training_data(topt.data.data, inp)
    else:
        data = tdata.prepare_arrays([data], inp)
    summary_path = Path(topt.run.out) / "logo.json"
    folds_to_run = _folds(options, data, summary_path)
    folds: Dict[str, EvalReport] = {}
    pooled_rows = []
    for i, (g, train_idx, test_idx) in enumerate(folds_to_run):
        if len(test_idx) < options.min_group_size:
            say(f"skipping {g}: {len(test_idx)} rows")
            continue
        say(f"fold {i + 1}/{len(folds_to_run)}: held-out {g} ({len(test_idx)} rows), training on {len(train_idx)}")
        report, probs, labels, test = _run_fold(topt, g, data.subset(train_idx), data.subset(test_idx), log)
        folds[g] = report
        say(f"fold {g}: accuracy {report.accuracy:.4f}, macro F1 {report.macro_f1:.4f}")
        pooled_rows.append((probs, labels, test.groups, report.classes))
    if not folds:
        raise FingerspellError("no fold was run: every group was smaller than min_group_size")
    pooled = evaluate_arrays(*(np.concatenate([r[k] for r in pooled_rows]) for k in range(3)), pooled_rows[-1][3])
    accs = [r.accuracy for r in folds.values()]
    f1s = [r.macro_f1 for r in folds.values()]
    result = LogoResult(folds=folds, mean_accuracy=float(np.mean(accs)), std_accuracy=_std(accs),
                        mean_macro_f1=float(np.mean(f1s)), std_macro_f1=_std(f1s), pooled=pooled,
                        seconds=time.perf_counter() - t0)
    atomic_write_json(summary_path, {"model": topt.model.name, "data": list(topt.data.data),
                                     "options": topt.to_dict(), **result.summary()})
    return result


def _folds(options: LogoOptions, data: DatasetArrays, summary_path: Path) -> List[tuple]:
    """(group, train rows, test rows) per held-out group asked for, after checking the request."""
    topt = options.train
    all_groups = sorted(np.unique(data.groups).tolist())
    groups = list(options.groups) or all_groups
    unknown = [g for g in groups if g not in all_groups]
    if unknown:
        raise FingerspellError(f"groups {unknown} are not in the data; it has: {', '.join(all_groups)}")
    if len(all_groups) < 2:
        raise FingerspellError(f"leave-one-group-out needs at least 2 groups; the data has {all_groups}")
    if summary_path.exists() and not (topt.run.overwrite or topt.run.resume):
        raise FingerspellError(f"{summary_path} already exists: choose another --out or pass --overwrite")
    if topt.data.val_data:
        raise FingerspellError("leave-one-group-out validates inside the training groups: drop --val-data")
    return [f for f in splits.leave_one_group_out(data.groups) if f[0] in groups]


def _finished(report_path: Path) -> Optional[dict]:
    """The ``extra`` of a fold's evaluation report (best epoch, epochs run), or None when there is no
    readable report: the fold did not finish."""
    try:
        return dict(json.loads(report_path.read_text()).get("extra") or {})
    except (OSError, ValueError, AttributeError):
        return None


def _run_fold(topt, g: str, train_part: DatasetArrays, test_part: DatasetArrays, log) -> tuple:
    """Train on the other groups, evaluate on ``g``: (report, probabilities, labels, test data).

    With ``resume`` a fold evaluated before (its ``eval/report.json`` written after training) is only
    evaluated again from its ``best`` checkpoint, and a fold stopped while training goes on from its
    last epoch."""
    fold_out = Path(topt.run.out) / f"fold_{_safe(g)}"
    report_path = fold_out / "eval" / "report.json"
    done = _finished(report_path) if topt.run.resume and (fold_out / "best.safetensors").is_file() else None
    if done is not None:
        best_path = fold_out / "best"
        if read_card(best_path).get("architecture") != topt.model.name:
            raise FingerspellError(f"{fold_out} holds a {read_card(best_path).get('architecture')} model, not "
                                   f"{topt.model.name}: resume with the same --model, or pass --overwrite")
        (log or print)(f"fold {g}: trained before, evaluating {best_path}.safetensors again")
    else:
        val_fraction = 0.0 if (topt.data.val_fraction is None and not topt.data.val_groups) else topt.data.val_fraction
        fold_val_groups = tuple(v for v in topt.data.val_groups if v != g)
        fold_opts = topt.replace(out=str(fold_out), val_groups=fold_val_groups,
                                 val_fraction=None if fold_val_groups else val_fraction,
                                 resume=topt.run.resume and (fold_out / "last.safetensors").is_file())
        result = train(fold_opts, train_data=train_part, log=log)
        best_path, done = result.best_path, {"best_epoch": result.best_epoch, "epochs_run": result.epochs_run}
    model, card = load_checkpoint(best_path)
    inp = input_for(card)
    test = inp.prepare([test_part])
    classes = list(card["classes"])
    labels = align_labels(test, classes)
    probs = inp.dataset_probs(lambda x: predict(model, x), test)
    report = evaluate_arrays(probs, labels, test.groups, classes, no_hand=test.no_hand)
    report.extra.update({"held_out": g, "best_epoch": done.get("best_epoch"), "epochs_run": done.get("epochs_run")})
    report.save(fold_out / "eval", overwrite=True)
    return report, probs, labels, test
