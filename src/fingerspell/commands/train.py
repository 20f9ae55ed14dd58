"""``fingerspell train``: train a model on dataset files and keep its best checkpoint."""

from __future__ import annotations

import argparse
import json

NAME = "train"
HELP = "train a model (cnn, mobilenetv2, resnet18, landmark_mlp) on dataset files"
ORDER = 30
DESCRIPTION = (
    "Train a model on one or more dataset files (made by build-dataset). The best epoch by validation "
    "accuracy is kept as <out>/best.safetensors + best.json; <out>/last.* lets --resume continue. "
    "Runs under 'torchrun --nproc_per_node=N -m fingerspell train ...' with DistributedDataParallel."
)
MODEL_NAMES = ("cnn", "mobilenetv2", "resnet18", "landmark_mlp")  # same as fingerspell.models.MODEL_NAMES


def _csv(text: str) -> tuple:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _add_optimisation_arguments(p: argparse.ArgumentParser) -> None:
    """The optimisation group of ``train`` and ``logo``."""
    opt = p.add_argument_group("optimisation (defaults: a small, safe start; the shipped models' tuned "
                               "settings are in fingerspell.training.recipes)")
    opt.add_argument("--epochs", type=int, default=10,
                     help="passes over the training data (default 10: enough for the landmark MLP to settle)")
    opt.add_argument("--batch-size", type=int, default=100,
                     help="global batch size (default 100: fits a CPU and keeps BatchNorm statistics steady)")
    opt.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 0.001, Adam's usual start)")
    opt.add_argument("--weight-decay", type=float, default=0.0)
    opt.add_argument("--lr-schedule", choices=["none", "cosine", "step"], default="none")
    opt.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs; 0 = off")
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument("--class-weighting", action="store_true", help="inverse-frequency class weights in the loss")
    opt.add_argument("--balanced-sampling", action="store_true", help="sample classes equally (single process)")
    opt.add_argument("--static-letters", action="store_true",
                     help="train J photos as I and Z photos as D: the motion reader writes J and Z")
    opt.add_argument("--second-readings", action="store_true",
                     help="vector models: also train on each photo's second reading (the mirrored photo)")
    opt.add_argument("--no-augment", action="store_true", help="train without augmentation")
    opt.add_argument("--sign-offset", type=float, default=0.0, metavar="LOGITS",
                     help="after training, lower the SPACE, DEL and NOTHING scores by this much: letters "
                          "are far commoner while spelling (the shipped recipe uses 2; default 0)")


def add_training_arguments(p: argparse.ArgumentParser, logo: bool = False) -> None:
    """Arguments shared by ``train`` and ``logo``."""
    p.add_argument("--data", action="append", required=True, metavar="FILE",
                   help="dataset .npz (repeat to join several)")
    p.add_argument("--model", required=True, choices=MODEL_NAMES)
    p.add_argument("--out", required=True, metavar="DIR", help="run folder")
    val = p.add_argument_group("validation")
    if not logo:
        val.add_argument("--val-data", action="append", default=[], metavar="FILE",
                         help="validation dataset file (repeatable)")
    val.add_argument("--val-groups", type=_csv, default=(), metavar="G1,G2",
                     help="validate on these groups (signers) of the training data")
    val.add_argument("--val-fraction", type=float, default=None,
                     help="validate on a random stratified fraction (overstates accuracy: near-copies on both "
                          "sides); 0 = no validation. Default without --val-*: "
                          + ("none (fixed epochs)" if logo else "0.1"))
    _add_optimisation_arguments(p)
    m = p.add_argument_group("model")
    m.add_argument("--input-size", type=int, default=None,
                   help="mask side the model reads (default: the dataset's; others are re-drawn from landmarks)")
    m.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra constructor argument, VALUE as JSON (e.g. hidden=[128,64])")
    m.add_argument("--pretrained", action="store_true",
                   help="ImageNet weights through torchvision (needs internet or a torch hub cache)")
    m.add_argument("--pretrained-path", default=None, metavar="FILE",
                   help="ImageNet/torchvision backbone state dict (.safetensors or weights-only .pth)")
    m.add_argument("--init-from", default=None, metavar="PATH",
                   help="start from a checkpoint path, a shipped model name (landmark_mlp) or a plain state dict "
                        "such as a seed .pth (tensors matching by name and shape are copied)")
    m.add_argument("--freeze-backbone", action="store_true", help="train only the new layers (feature extraction)")
    m.add_argument("--finetune-epochs", type=int, default=0,
                   help="after the frozen epochs, this many with the top backbone stages trainable")
    m.add_argument("--finetune-lr-factor", type=float, default=0.1)
    m.add_argument("--unfreeze-stages", type=int, default=2)
    run = p.add_argument_group("run")
    run.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps")
    run.add_argument("--resume", action="store_true",
                     help="go on with the folds in --out: folds already evaluated are only evaluated again, a fold "
                          "stopped while training continues from its last epoch" if logo else
                          "continue the run in --out from its last epoch")
    run.add_argument("--overwrite", action="store_true", help="replace an existing run in --out")
    run.add_argument("--half", action="store_true", help="save best.safetensors in fp16")
    run.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    run.add_argument("--threads", type=int, default=None,
                     help="CPU threads for torch (default: torch's; 1 is often faster on a busy 2-core CPU)")
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--no-plot", action="store_true")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_training_arguments(p)


def _model_kwargs(pairs) -> tuple:
    from fingerspell.errors import FingerspellError

    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise FingerspellError(f"--model-arg {pair!r}: write KEY=VALUE, e.g. dropout=0.3")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        out.append((key.strip(), tuple(parsed) if isinstance(parsed, list) else parsed))
    return tuple(out)


def options_from_args(args: argparse.Namespace):
    """TrainOptions from parsed ``train``/``logo`` arguments."""
    from fingerspell.training.options import TrainOptions

    return TrainOptions.flat(
        data=tuple(args.data), model=args.model, out=args.out,
        val_data=tuple(getattr(args, "val_data", ()) or ()), val_groups=tuple(args.val_groups),
        val_fraction=args.val_fraction, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, lr_schedule=args.lr_schedule,
        patience=args.patience or None, seed=args.seed, device=args.device, input_size=args.input_size,
        model_kwargs=_model_kwargs(args.model_arg), augment=not args.no_augment,
        class_weighting=args.class_weighting, balanced_sampling=args.balanced_sampling,
        static_letters=args.static_letters, second_readings=args.second_readings, sign_offset=args.sign_offset,
        pretrained=args.pretrained, pretrained_path=args.pretrained_path, init_from=args.init_from,
        freeze_backbone=args.freeze_backbone, finetune_epochs=args.finetune_epochs,
        finetune_lr_factor=args.finetune_lr_factor, unfreeze_stages=args.unfreeze_stages,
        resume=getattr(args, "resume", False), overwrite=args.overwrite, half_weights=args.half,
        num_workers=args.workers, threads=args.threads, progress=not args.no_progress, plot=not args.no_plot,
    )


def run(args: argparse.Namespace) -> int:
    from fingerspell.training.train import train

    result = train(options_from_args(args))
    if result.epochs_run == 0:
        print(f"{args.out}: already trained to epoch {result.last_epoch + 1}; raise --epochs to train on")
    return 0
