"""``fingerspell logo``: leave-one-group-out training and evaluation (accuracy on unseen signers)."""

from __future__ import annotations

import argparse

NAME = "logo"
HELP = "leave-one-group-out: train on all signers but one, test on that one; mean +- std over folds"
ORDER = 32
DESCRIPTION = (
    "For every group (signer) in the data, train on the others and evaluate on it. Prints per-fold and "
    "mean +- std accuracy and macro F1; writes <out>/fold_<group>/ (checkpoint and report) and <out>/logo.json."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from fingerspell.commands.train import _csv, add_training_arguments

    add_training_arguments(p, logo=True)
    p.add_argument("--groups", type=_csv, default=(), metavar="G1,G2",
                   help="hold out only these groups (default: every group)")


def run(args: argparse.Namespace) -> int:
    from fingerspell.commands.train import options_from_args
    from fingerspell.training.logo import run_logo
    from fingerspell.training.options import LogoOptions

    result = run_logo(LogoOptions(train=options_from_args(args), groups=tuple(args.groups)))
    print(result.format())
    print(f"\nsummary: {args.out}/logo.json")
    return 0
