"""``fingerspell export``: a checkpoint as an ONNX file for onnxruntime."""

from __future__ import annotations

import argparse
import sys

NAME = "export"
HELP = "export a checkpoint to ONNX (dynamic batch), with its model card beside it"
ORDER = 42


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint path (suffix optional) or shipped model name (default: the shipped default)")
    p.add_argument("--format", choices=("onnx",), default="onnx")
    p.add_argument("--out", default=None, metavar="FILE.onnx",
                   help="output file or folder (default: <checkpoint>.onnx beside it)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (13 or newer; default 17)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.add_argument("--no-check", action="store_true", help="skip comparing onnxruntime with PyTorch")


def run(args: argparse.Namespace) -> int:
    from fingerspell.runtime.classifier import parity_check
    from fingerspell.runtime.onnx import export_onnx

    out = export_onnx(args.checkpoint, args.out, opset=args.opset, overwrite=args.overwrite)
    print(f"wrote {out} and {out.with_suffix('.json').name}")
    if not args.no_check:
        diff = parity_check(args.checkpoint, out)
        print(f"onnxruntime vs PyTorch: max abs probability difference {diff:.2e}")
        if diff > 1e-4:
            print("fingerspell export: warning: the ONNX model disagrees with PyTorch by more than 1e-4",
                  file=sys.stderr)
    return 0
