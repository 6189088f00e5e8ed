"""A fixed job id's swap is the same to the pixel however its threads are scheduled: the
decode, engine and compositing stages slowed at random (as on a loaded machine, where
each waits on the others in another order) write the frames of an unhurried swap. A guard:
no stage's result depends on which thread gets there first (BENCHMARKS.md, "A fixed job
id's swap under load", thirty-third round)."""

from __future__ import annotations

import importlib
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from facedub import media
from facedub.engines.mesh import MeshEngine
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.swap import SwapConfig, swap

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
RUDD = "still_paul_rudd_frontal_studio.jpg"
JOB_ID = 101
LONGEST_NAP = 0.04  # seconds a stage may be held up at a time

T = TypeVar("T")


def _swapped(faces_dir: Path, target: Path, work: Path, out: Path) -> list[np.ndarray]:
    """The decoded frames of a lossless swap of `target` with the photo source."""
    engine = MeshEngine(analysed(faces_dir / RUDD, work, ExtractConfig(crop_size=256)),
                        source_path=faces_dir / RUDD)
    try:
        swap(target, engine, out, SwapConfig(work_dir=work, config_dir=work / "config",
                                             crf=0, job_id=JOB_ID))
    finally:
        engine.close()
    return [frame.image for frame in media.iter_frames(out)]


def test_a_swap_slowed_at_random_in_every_stage_writes_the_same_frames(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = short_clip(KATIE, 0.5)
    work = tmp_path / "work"
    calm = _swapped(faces_dir, target, work, tmp_path / "calm.mp4")

    rng, lock = random.Random(3), threading.Lock()

    def nap() -> None:
        with lock:
            seconds = rng.random() * LONGEST_NAP
        time.sleep(seconds)

    swap_module = importlib.import_module("facedub.swap")
    prefetched = swap_module.prefetched

    def slowed(items: Iterable[T]) -> Iterator[T]:
        for item in items:
            nap()
            yield item

    monkeypatch.setattr(swap_module, "prefetched",
                        lambda items, depth=4: prefetched(slowed(items), depth))
    for stage in ("engine_face", "finish"):
        method = getattr(swap_module.FrameSwapper, stage)

        def held_up(self: object, item: object, method: Callable[..., object] = method
                    ) -> object:
            nap()
            return method(self, item)

        monkeypatch.setattr(swap_module.FrameSwapper, stage, held_up)
    hurried = _swapped(faces_dir, target, work, tmp_path / "hurried.mp4")
    assert len(hurried) == len(calm) > 5
    differing = [index for index, (a, b) in enumerate(zip(calm, hurried, strict=True))
                 if not np.array_equal(a, b)]
    assert differing == []
