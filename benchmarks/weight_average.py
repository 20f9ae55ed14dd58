"""Averaging the weights of the last epochs (stochastic weight averaging over the schedule's tail):
does it read people the model never saw better than the last epoch's weights?

    OMP_NUM_THREADS=1 python benchmarks/weight_average.py --tail 0.25 [--seed 0] [--epochs 40]
        [--protocols to-mon95 mon95-loso massey-loso to-asl] [--out FILE.json]

Each protocol is trained and scored as ``benchmarks/accuracy.py`` does (the shipped vector recipe,
its fold models), once with the last epoch's weights (``--tail 0``) and once with the running mean of
the weights at the end of each of the last ``--tail`` of the epochs (BatchNorm statistics averaged
alike), put into the model before its last checkpoint is written. The trainer is patched here, not
changed: the variant was measured and not shipped (docs/accuracy_features.md, "Training variants").
About 13 minutes per run of the four protocols on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy as acc  # noqa: E402
from _common import REPO, machine  # noqa: E402


def patch_trainer(tail: float) -> None:
    """Make Trainer keep the mean of its end-of-epoch weights over the last ``tail`` of the epochs."""
    import torch

    from fingerspell.training import trainer as T

    end_epoch = T.Trainer.end_epoch

    def averaged_end_epoch(self, epoch, record):
        total = self.options.total_epochs
        if epoch >= int(round(total * (1 - tail))):
            state = {k: v.detach().clone().float() for k, v in self.model.state_dict().items()}
            if getattr(self, "_avg", None) is None:
                self._avg, self._n = state, 1
            else:
                self._n += 1
                for k, v in state.items():
                    if v.dtype.is_floating_point and not k.endswith("num_batches_tracked"):
                        self._avg[k].add_(v - self._avg[k], alpha=1 / self._n)
        if epoch == total - 1 and getattr(self, "_avg", None) is not None:
            current = self.model.state_dict()
            with torch.no_grad():
                self.model.load_state_dict({k: self._avg[k].to(current[k].dtype) for k in current})
        return end_epoch(self, epoch, record)

    T.Trainer.end_epoch = averaged_end_epoch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tail", type=float, default=0.25, help="share of the last epochs averaged (0: off)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=40, help="accuracy.py's fold recipe")
    ap.add_argument("--protocols", nargs="+", default=["to-mon95", "mon95-loso", "massey-loso", "to-asl"],
                    choices=acc.PROTOCOLS)
    ap.add_argument("--out", default=None, help="JSON (default benchmarks/results/weight_average_tTAIL_sSEED.json)")
    a = ap.parse_args()
    if a.tail:
        patch_trainer(a.tail)
    args = acc.recipe_args(a.seed, a.epochs, threads=1)
    out = Path(a.out or REPO / "benchmarks" / "results" / f"weight_average_t{a.tail:g}_s{a.seed}.json")
    ds = acc.ensure_datasets(REPO / "artifacts" / "data", 96)
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for p in a.protocols:
            r = acc.run_protocol("landmark_mlp", p, ds, args, Path(tmp) / p)
            res[p] = {"accuracy": r["accuracy_given_hand"], "per_letter": r["per_letter"], "seconds": r["seconds"]}
            print(f"tail {a.tail:g} seed {a.seed} {p}: {r['accuracy_given_hand']:.2%}", flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"tail": a.tail, "seed": a.seed, "epochs": a.epochs, "machine": machine(),
                                       "results": res}, indent=1))


if __name__ == "__main__":
    main()
