"""Small real models and real-photo videos for the runtime tests.

* :func:`tiny_mlp`: a LandmarkMLP trained in a few seconds on MediaPipe landmark vectors of mon95
  photos of users 3-6 (all 24 letters), saved with ``save_checkpoint``. The test videos show
  user 7, whom the model has never seen.
* :func:`tiny_cnn`: an untrained mask CNN (random weights), for ONNX parity and the mask path.
* :func:`word_video`: an mp4v video (640x480, 10 fps) spelling a word from user 7's photos,
  each letter held 2 s, with hand-free black frames before a repeated letter.

Everything is built once per test process (cached) in a temp folder.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np

from fingerspell.reading.photovideo import letterbox  # noqa: F401  (the tests import it from here)

LETTERS_MON95 = "ABCDEFGHIKLMNOPQRSTUVWXY"  # no J, Z
TRAIN_USERS = (3, 4, 5, 6)
VIDEO_USER = 7
WORD = "BOOK"
FPS = 10
HOLD_S = 2.0
GAP_FRAMES = 4
SIZE = (640, 480)
# Photos 0-4 and 5-9 of a mon95 letter stand in two places; a held hand does not jump, so a
# video holds a letter with photos 0-4 back and forth.
_SWAY = (0, 1, 2, 1, 0, -1, -2, -1)  # pixels: a hand that is held, not frozen


@functools.cache
def workdir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="fingerspell-runtime-tests-"))
    atexit.register(shutil.rmtree, d, True)
    return d


def mon95(data: Path, user: int, letter: str, k: int) -> np.ndarray:
    from fingerspell.hands.detector import load_image

    return load_image(data / "mon95" / f"user_{user}" / f"{letter}{k}.jpg")


def _training_vectors(data: Path) -> Tuple[np.ndarray, np.ndarray]:
    from fingerspell.features import hand_vector
    from fingerspell.hands.detector import HandDetector
    from fingerspell.labels import index_of

    xs: List[np.ndarray] = []
    ys: List[int] = []
    with HandDetector(mode="image", max_hands=1) as det:
        for user in TRAIN_USERS:
            for letter in LETTERS_MON95:
                for k in (0, 4, 8):
                    hands = det.detect(letterbox(mon95(data, user, letter, k)))
                    if hands:
                        xs.append(hand_vector(hands[0]))
                        ys.append(index_of(letter))
    return np.stack(xs), np.array(ys, dtype=np.int64)


@functools.cache
def tiny_mlp(data: Path) -> Path:
    """Checkpoint path (no suffix) of a LandmarkMLP trained on mon95 users 3-6."""
    import torch

    # Before any MediaPipe graph: with DISPLAY set, MediaPipe loads Mesa's libLLVM, and importing
    # torchvision (-> torch._dynamo -> triton, another LLVM) after that crashes the process.
    import fingerspell.models.registry  # noqa: F401

    x, y = _training_vectors(Path(data))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: on a busy 2-core box extra threads only spin (0.6 s vs 70 s)
    try:
        return _train_and_save(x, y)
    finally:
        torch.set_num_threads(threads)


def _train_and_save(x: np.ndarray, y: np.ndarray) -> Path:
    import torch

    from fingerspell.labels import CLASSES, NUM_CLASSES
    from fingerspell.models.checkpoint import save_checkpoint
    from fingerspell.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("landmark_mlp", NUM_CLASSES, hidden=(128,), dropout=0.2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(400):
        xb = xt + 0.03 * torch.randn_like(xt)
        loss = torch.nn.functional.cross_entropy(model(xb), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        train_acc = float((model(xt).argmax(1) == yt).float().mean())
    path = workdir() / "tiny_mlp"
    card = {"classes": list(CLASSES),
            "training": {"data": "mon95 users 3-6, 24 letters, 3 photos each", "steps": 400, "test": "tiny"},
            "metrics": {"train_accuracy": train_acc}}
    save_checkpoint(model, card, path)
    return path


@functools.cache
def tiny_cnn() -> Path:
    """Checkpoint path (no suffix) of an untrained 64-px mask CNN."""
    import torch

    from fingerspell.labels import CLASSES, NUM_CLASSES
    from fingerspell.models.checkpoint import save_checkpoint
    from fingerspell.models.registry import build_model

    torch.manual_seed(1)
    model = build_model("cnn", NUM_CLASSES, input_size=64).eval()
    path = workdir() / "tiny_cnn"
    save_checkpoint(model, {"classes": list(CLASSES), "training": {"untrained": True}, "metrics": {}}, path)
    return path


def word_frames(data: Path, word: str = WORD, user: int = VIDEO_USER, fps: int = FPS,
                hold_s: float = HOLD_S, gap_frames: int = GAP_FRAMES) -> List[Tuple[np.ndarray, str]]:
    """The frames of the word video with what each shows (a letter, or '' for hand-free)."""
    blank = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    frames: List[Tuple[np.ndarray, str]] = []
    hold = int(round(hold_s * fps))
    cache: Dict[str, np.ndarray] = {}
    for i, letter in enumerate(word):
        if i > 0 and word[i - 1] == letter:
            frames += [(blank, "")] * gap_frames  # let go of the hand before signing it again
        if letter not in cache:
            cache[letter] = letterbox(mon95(data, user, letter, 0))
        for f in range(hold):
            # One photo per letter, swaying a pixel or two: the held hand of one person. (Cycling
            # through the photos of a letter made the hand jump a fifth of a palm each frame, which
            # the hold reader rightly takes for movement.)
            frames.append((np.roll(cache[letter], _SWAY[f % len(_SWAY)], axis=1), letter))
    frames += [(blank, "")] * 5
    return frames


def write_video(frames: List[np.ndarray], path: Path, fps: int = FPS) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), SIZE)
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@functools.cache
def word_video(data: Path, word: str = WORD) -> Path:
    """An mp4v video of user 7 spelling ``word`` (see :func:`word_frames`)."""
    path = workdir() / f"{word.lower()}.mp4"
    return write_video([f for f, _ in word_frames(Path(data), word)], path)


def main(argv=None) -> int:
    """``python tests/_tiny_model.py OUT_DIR [WORD]``: write the tiny models and a word video
    there (what docs/runtime.md benchmarks)."""
    import argparse
    import os

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("out", type=Path)
    p.add_argument("word", nargs="?", default=WORD)
    p.add_argument("--data", type=Path, default=Path(os.environ.get("FINGERSPELL_DATA", "../shared/data")))
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    for src in (tiny_mlp(a.data), tiny_cnn()):
        for suffix in (".safetensors", ".json"):
            shutil.copy(str(src) + suffix, a.out / (src.name + suffix))
    video = write_video([f for f, _ in word_frames(a.data, a.word.upper())], a.out / f"{a.word.lower()}.mp4")
    print(f"wrote {a.out}/tiny_mlp.*, {a.out}/tiny_cnn.* and {video}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
