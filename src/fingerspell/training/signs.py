"""After training: the shipped recipe's prior against the three non-letter signs (``sign_offset``)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from fingerspell.models.weights import final_linear

SIGNS = ("SPACE", "DEL", "NOTHING")


def apply_sign_offset(path: Path, offset: float, half: bool = False, say: Callable[[str], None] = print) -> bool:
    """Lower the final layer's bias of SPACE, DEL and NOTHING by ``offset`` in the checkpoint at ``path``.

    Done once: the card records ``sign_offset_applied``, and a checkpoint that has it is left alone
    (a resumed, finished run calls this again). The "last" checkpoint, the resume point, is not touched.
    Returns whether the checkpoint was changed.
    """
    from fingerspell.models.checkpoint import load_checkpoint, save_checkpoint

    model, card = load_checkpoint(path)
    if card.get("sign_offset_applied") is not None:
        return False
    final = final_linear(model)
    classes = list(card.get("classes", []))
    idx = [classes.index(c) for c in SIGNS if c in classes]
    if final is None or final.bias is None or not idx:
        say(f"--sign-offset: {path.name} has no SPACE/DEL/NOTHING class scored by a final linear layer; left as is")
        return False
    with torch.no_grad():
        final.bias[idx] -= float(offset)
    card["sign_offset_applied"] = float(offset)
    save_checkpoint(model.float(), card, path, half=half)
    say(f"SPACE/DEL/NOTHING scores lowered by {offset:g} in {path.name}")
    return True

