"""Fixtures shared by the engine tests: a smiling photo swapped onto a neutral talking man
without the expression lines (the face `target_expression_lines` is given in a swap), and a
recorder of the threads a module's function runs on."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faceset import Faceset

SMILING = "still_biden_frontal.jpg"  # a broad smile: its cheeks' folds fade
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # frame 0: mouth closed, neutral
LINES_CROP = 256


@pytest.fixture(scope="module")
def smile_without_lines(extracted: Callable[..., Faceset],
                        first_target_face: Callable[..., TargetFace]
                        ) -> tuple[np.ndarray, TargetFace, np.ndarray]:
    """The smiling photo swapped onto the neutral talking man without the lines, the
    target, and the source's blendshapes."""
    source = extracted(SMILING, crop_size=LINES_CROP)
    target = first_target_face(TALKING, LINES_CROP)
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, target_expression_lines=False))
    try:
        return engine.swap_face(target).image, target, source.faces_of()[0].blendshapes
    finally:
        engine.close()


@pytest.fixture
def record_threads(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list[str]]:
    """Call with (module, name): the names of the threads `module.name` runs on from then,
    appended as it is called."""
    import threading

    def start(module: object, name: str) -> list[str]:
        names: list[str] = []
        original = getattr(module, name)

        def recorded(*args: object) -> object:
            names.append(threading.current_thread().name)
            return original(*args)
        monkeypatch.setattr(module, name, recorded)
        return names
    return start
