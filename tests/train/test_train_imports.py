"""Training needs no media stack: a lent GPU machine carries torch, not PyAV."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from facedub.spread import spread_indices
from facedub.train.checkpoint import PREVIEW_ROWS, preview_faces
from facedub.train.data import FaceSamples


def test_the_training_modules_import_without_pyav() -> None:
    # `None` in sys.modules makes `import av` raise, as on a machine without it.
    code = ("import sys; sys.modules['av'] = None; "
            "import facedub.train, facedub.train.refine, facedub.train.checkpoint")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def _samples(count: int) -> FaceSamples:
    images = np.arange(count, dtype=np.uint8)[:, None, None, None] * np.ones(
        (1, 4, 4, 3), np.uint8)
    masks = np.full((count, 4, 4), 255, np.uint8)
    return FaceSamples(images=images, masks=masks, eyes_mouth=masks.copy(),
                       yaw=np.zeros(count), frames=np.arange(count))


def test_preview_faces_are_spread_over_the_footage() -> None:
    for count in (1, 2, 3, PREVIEW_ROWS, PREVIEW_ROWS + 1, 7, 10, 101):
        a, b = preview_faces(_samples(count), _samples(count + 3))
        assert a[:, 0, 0, 0].tolist() == list(spread_indices(count, PREVIEW_ROWS))
        assert b[:, 0, 0, 0].tolist() == list(spread_indices(count + 3, PREVIEW_ROWS))
