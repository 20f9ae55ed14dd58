"""Evaluation: accuracy, macro precision/recall/F1, per-class and per-group results, confusion matrix.

The core, :func:`evaluate_arrays`, takes predictions (or probabilities) and labels and knows
nothing about models, so benchmarks and other pipelines reuse it. :func:`evaluate_checkpoint`
runs a saved model over dataset files and feeds it.

End-to-end accuracy counts what a user would see from photos: a photo in which no hand was found
gives no letter, so it counts as wrong, whether it was left out of the dataset (``n_missed``, from
the build report) or kept with ``no_hand`` set under a letter label. A NOTHING photo with no hand
counts as right: the recognizer says NOTHING when it sees no hand.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from fingerspell.data.schema import DatasetArrays
from fingerspell.errors import FingerspellError
from fingerspell.features import input_for
from fingerspell.fileio import atomic_write_bytes, write_together
from fingerspell.labels import NOTHING

PathLike = Union[str, Path]


@dataclass
class EvalReport:
    """Every number of one evaluation; ``to_dict`` is what ``report.json`` holds."""

    n: int
    accuracy: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    per_class: Dict[str, Dict[str, float]]
    confusion: List[List[int]]
    confusion_labels: List[str]
    per_group: Dict[str, Dict[str, float]]
    n_missed: int = 0
    end_to_end_accuracy: Optional[float] = None
    end_to_end_n: int = 0
    top3_accuracy: Optional[float] = None
    classes: List[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def format(self) -> str:
        """A printable summary: headline numbers, per-class table, per-group table."""
        lines = [f"samples {self.n}   accuracy {self.accuracy:.4f}   macro precision {self.macro_precision:.4f}   "
                 f"macro recall {self.macro_recall:.4f}   macro F1 {self.macro_f1:.4f}"]
        if self.top3_accuracy is not None:
            lines[0] += f"   top-3 {self.top3_accuracy:.4f}"
        if self.end_to_end_accuracy is not None:
            lines.append(f"end-to-end accuracy {self.end_to_end_accuracy:.4f} over {self.end_to_end_n} photos "
                         f"({self.n_missed} with no hand found counted wrong)")
        lines += ["", f"{'class':<8} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
        for name, r in self.per_class.items():
            lines.append(f"{name:<8} {r['precision']:>9.3f} {r['recall']:>7.3f} {r['f1']:>7.3f} {int(r['support']):>8}")
        if self.per_group:
            lines += ["", f"{'group':<32} {'n':>6} {'accuracy':>9} {'macro F1':>9}"]
            for g, r in self.per_group.items():
                lines.append(f"{g:<32} {int(r['n']):>6} {r['accuracy']:>9.4f} {r['macro_f1']:>9.4f}")
        return "\n".join(lines)

    def save(self, out_dir: PathLike, overwrite: bool = False, plot: bool = True) -> Path:
        """Write ``report.json``, ``report.txt`` and ``confusion.png`` atomically into ``out_dir``."""
        out = Path(out_dir)
        target = out / "report.json"
        if target.exists() and not overwrite:
            raise FingerspellError(f"{target} already exists: choose another --out or pass --overwrite")
        out.mkdir(parents=True, exist_ok=True)
        files = {target: (json.dumps(self.to_dict(), indent=2, default=_plain) + "\n").encode(),
                 out / "report.txt": (self.format() + "\n").encode()}
        if plot:
            files[out / "confusion.png"] = confusion_png(
                np.array(self.confusion), self.confusion_labels,
                title=f"accuracy {self.accuracy:.3f}, macro F1 {self.macro_f1:.3f} (n={self.n})")
        write_together(files)  # all of them or none (a full disk, Ctrl-C)
        return target


def _plain(value):
    """numpy numbers and arrays, paths: as JSON can hold them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _label_order(classes: Sequence[str], *arrays: np.ndarray) -> np.ndarray:
    present = np.unique(np.concatenate([np.asarray(a, dtype=np.int64) for a in arrays]))
    return present[(present >= 0) & (present < len(classes))]


def evaluate_arrays(
    probs_or_preds: np.ndarray,
    labels: np.ndarray,
    groups: Optional[np.ndarray],
    classes: Sequence[str],
    n_missed: int = 0,
    no_hand: Optional[np.ndarray] = None,
) -> EvalReport:
    """Score predictions against labels.

    probs_or_preds: (N, C) probabilities/logits (argmax is taken; top-3 accuracy reported too) or
        (N,) predicted class indices into ``classes``.
    labels: (N,) true class indices into ``classes``; groups: (N,) signer/source names or None.
    n_missed: photos of letters in which no hand was found (not in the arrays); they count as
        wrong in the end-to-end accuracy only.
    no_hand: (N,) flags: rows without a hand count wrong end to end unless their label is NOTHING.

    Macro averages run over the classes present in ``labels`` (a class absent from the test set
    has no recall to average).
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if labels.shape[0] == 0:
        raise FingerspellError("nothing to evaluate: the data has no rows; give a dataset that holds samples")
    preds, top3 = _predictions(np.asarray(probs_or_preds), labels, classes)
    n = int(labels.shape[0])
    true_classes = np.unique(labels)
    p, r, f, s = precision_recall_fscore_support(labels, preds, labels=true_classes, zero_division=0)
    per_class = {classes[c]: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                 for i, c in enumerate(true_classes)}
    order = _label_order(classes, labels, preds)
    cm = confusion_matrix(labels, preds, labels=order)
    correct = preds == labels
    e2e_correct = _end_to_end_correct(correct, labels, classes, no_hand)
    e2e_n = n + int(n_missed)
    return EvalReport(
        n=n, accuracy=float(correct.mean()),
        macro_precision=float(p.mean()), macro_recall=float(r.mean()), macro_f1=float(f.mean()),
        per_class=per_class, confusion=cm.astype(int).tolist(), confusion_labels=[classes[i] for i in order],
        per_group=_per_group(preds, labels, groups), n_missed=int(n_missed),
        end_to_end_accuracy=float(e2e_correct.sum() / e2e_n), end_to_end_n=e2e_n,
        top3_accuracy=top3, classes=list(classes),
    )


def _predictions(scores: np.ndarray, labels: np.ndarray, classes: Sequence[str]):
    """(predicted indices, top-3 accuracy or None) from (N, C) scores or (N,) predictions."""
    if scores.ndim != 2:
        preds = scores.astype(np.int64).reshape(-1)
        if preds.shape != labels.shape:
            raise FingerspellError(f"{preds.shape[0]} predictions for {labels.shape[0]} labels")
        return preds, None
    if scores.shape[0] != labels.shape[0] or scores.shape[1] != len(classes):
        raise FingerspellError(f"scores {scores.shape} do not fit {labels.shape[0]} labels over {len(classes)} classes")
    topk = np.argsort(-scores, axis=1)[:, :min(3, scores.shape[1])]
    return scores.argmax(1), float(np.mean((topk == labels[:, None]).any(1)))


def _per_group(preds: np.ndarray, labels: np.ndarray, groups: Optional[np.ndarray]) -> Dict[str, Dict[str, float]]:
    from sklearn.metrics import f1_score

    out: Dict[str, Dict[str, float]] = {}
    if groups is None:
        return out
    groups = np.asarray(groups).reshape(-1)
    for g in sorted(np.unique(groups).tolist()):
        m = groups == g
        gl = labels[m]
        out[str(g)] = {
            "n": int(m.sum()), "accuracy": float(np.mean(preds[m] == gl)),
            "macro_f1": float(f1_score(gl, preds[m], labels=np.unique(gl), average="macro", zero_division=0)),
        }
    return out


def _end_to_end_correct(correct: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                        no_hand: Optional[np.ndarray]) -> np.ndarray:
    """Rows without a hand are right only under NOTHING (the recognizer says NOTHING with no hand)."""
    if no_hand is None:
        return correct
    no_hand = np.asarray(no_hand, dtype=bool).reshape(-1)
    nothing = classes.index(NOTHING) if NOTHING in classes else -1
    return np.where(no_hand, labels == nothing, correct)


def plot_confusion(cm: np.ndarray, labels: Sequence[str], path: PathLike, title: str = "") -> Path:
    """A labelled confusion matrix PNG: colour by row share (recall), counts written in the cells."""
    return atomic_write_bytes(path, confusion_png(cm, labels, title))


def confusion_png(cm: np.ndarray, labels: Sequence[str], title: str = "") -> bytes:
    """The bytes of :func:`plot_confusion`'s PNG (scikit-learn's ConfusionMatrixDisplay, coloured by recall)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    cm = np.asarray(cm)
    side = max(5.0, 0.38 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(side, side * 0.9))
    rows = cm.sum(1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm, dtype=float), where=rows > 0)
    disp = ConfusionMatrixDisplay(share, display_labels=list(labels))
    disp.plot(ax=ax, cmap="Blues", colorbar=False, xticks_rotation="vertical", values_format=".2f")
    disp.im_.set_clim(0, 1)
    for (i, j), text in np.ndenumerate(disp.text_):  # counts in the cells, not shares; none for 0
        text.set_text(str(cm[i, j]) if cm[i, j] else "")
        text.set_fontsize(6)
    ax.tick_params(labelsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)
    fig.colorbar(disp.im_, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def predict(model, inputs: np.ndarray, batch_size: int = 256, device: str = "cpu") -> np.ndarray:
    """Softmax probabilities (N, C) of a model over prepared inputs (from :mod:`fingerspell.features`)."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(inputs), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(inputs[i:i + batch_size])).to(device)
            out.append(torch.softmax(model(x).float(), dim=1).cpu().numpy())
    if not out:
        return np.zeros((0, 0), np.float32)
    return np.concatenate(out)


def missed_from_report(dataset_path: PathLike) -> Optional[int]:
    """Photos left out for want of a hand, from the dataset's ``<file>.report.json`` (None if absent)."""
    rp = Path(str(dataset_path) + ".report.json")
    if not rp.is_file():
        return None
    try:
        rep = json.loads(rp.read_text())
        return int(len(rep.get("no_hand_files", [])) + len(rep.get("unreadable_files", [])))
    except (ValueError, TypeError, OSError):
        return None


def align_labels(data: DatasetArrays, model_classes: Sequence[str]) -> np.ndarray:
    """Dataset labels re-indexed into the model's classes (-1 where the model lacks the class)."""
    index = {c: i for i, c in enumerate(model_classes)}
    lut = np.array([index.get(c, -1) for c in data.classes], dtype=np.int64)
    return lut[data.labels]


def evaluate_model(
    model, card: dict, data: DatasetArrays, n_missed: int = 0, batch_size: int = 256, device: str = "cpu",
) -> EvalReport:
    """Run a loaded model over a dataset (masks re-drawn to the card's input size if needed) and score it."""
    inp = input_for(card)
    data = inp.prepare([data])
    labels = align_labels(data, card["classes"])
    known = labels >= 0
    if len(data) == 0:
        raise FingerspellError("nothing to evaluate: the data has no rows; give a dataset that holds samples")
    if not known.any():
        raise FingerspellError(
            f"nothing to evaluate: the data's {len(data)} rows are of classes "
            f"{sorted({data.classes[i] for i in np.unique(data.labels)})[:8]} and the model knows none of them "
            f"(it reads {list(card['classes'])[:8]}...): give a dataset of the model's classes"
        )
    dropped = int((~known).sum())
    if dropped:
        data = data.subset(known)
        labels = labels[known]
    probs = inp.dataset_probs(lambda x: predict(model, x, batch_size, device), data)
    report = evaluate_arrays(probs, labels, data.groups, list(card["classes"]), n_missed=n_missed,
                             no_hand=data.no_hand)
    report.extra["rows_with_classes_the_model_lacks"] = dropped
    from fingerspell.training.threshold import check_threshold

    report.extra["threshold"] = check_threshold(probs, labels).to_dict()  # does the live threshold fit?
    return report


def evaluate_checkpoint(
    checkpoint: PathLike, data_paths: Sequence[PathLike], n_missed: Optional[int] = None,
    batch_size: int = 256, device: str = "cpu",
) -> EvalReport:
    """Load a model (checkpoint path or shipped name) and dataset files and evaluate.
    ``n_missed`` None: read from the build reports."""
    from fingerspell.data.schema import load_dataset
    from fingerspell.models.checkpoint import resolve_model

    ref = resolve_model(checkpoint)
    if ref.is_onnx:  # an exported model runs in onnxruntime
        from fingerspell.training.onnx_eval import onnx_module

        model, card = onnx_module(ref.path)
    else:
        model, card = ref.load(device=device)
    parts = [load_dataset(p) for p in data_paths]
    data = input_for(card).prepare(parts, names=[str(p) for p in data_paths])
    if n_missed is None:
        found = [missed_from_report(p) for p in data_paths]
        n_missed = sum(m for m in found if m is not None)
    report = evaluate_model(model, card, data, n_missed=n_missed, batch_size=batch_size, device=device)
    report.extra.update({"checkpoint": str(checkpoint), "data": [str(p) for p in data_paths],
                         "architecture": card["architecture"], "input_size": card["input_size"]})
    return report
