"""A cut-short animated PNG given as a source: one line naming the file and what to do (it
was a bare "OSError" naming nothing, and "run the same command again")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facedub.media import DecodeError
from facedub.media.animation import iter_animation


def test_a_cut_short_animation_names_the_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frames = [Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
              for _ in range(10)]
    whole = tmp_path / "whole.png"
    frames[0].save(whole, save_all=True, append_images=frames[1:], duration=40, loop=0)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    assert len(list(iter_animation(whole))) == 10
    with pytest.raises(DecodeError, match=r"cut\.png: the animation could not be decoded "
                                          r"after \d of its frames .*download it again$"):
        list(iter_animation(cut))
