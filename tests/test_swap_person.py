"""The target person's identity descriptor travels from the swap's analysis to the engine,
which moves a face to the source's shape when the two are other people by identity."""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from facedub import media
from facedub.composite.compositor import CompositeConfig
from facedub.engines.mesh import MeshEngine
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_target, frame_swapper

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def test_the_target_persons_descriptor_reaches_the_engine(
        short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """Katie Hill onto herself: with her own descriptor the engine shows none of the
    source's relief (a self-swap); given another person's descriptor, all of it (the
    move to the source's shape is made, though here it is her own shape)."""
    clip = short_clip(KATIE, 0.5)
    work = tmp_path / "work"
    config = SwapConfig(work_dir=work, config_dir=work / "config",
                        composite=CompositeConfig(grain=False))
    faceset = analyse_target(clip, config, NoProgress())
    own = faceset.person_descriptor()
    assert own is not None
    frame = next(iter(media.iter_frames(clip)))

    def engine_face(person: np.ndarray | None) -> float:
        engine = MeshEngine(analysed(clip, work, ExtractConfig(crop_size=256)),
                            source_path=clip)
        swapper = frame_swapper(clip, faceset, engine, config)
        assert swapper.person is not None and np.array_equal(swapper.person, own)
        swapper.person = person
        face = swapper.engine_face(frame)
        assert face.target is not None and face.swapped is not None
        assert face.target.person is person
        return face.swapped.relief

    same = engine_face(own)
    other = engine_face(own + np.float32(0.6 / np.sqrt(own.size)))  # 0.6 apart
    assert same == 0.0 and other == 1.0
