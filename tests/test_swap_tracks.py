"""A track's per-track state is dropped after its last face: a film has a track per shot,
and each kept about 0.4 MB of engine and compositor state for the rest of the swap."""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from facedub import media
from facedub.composite.compositor import CompositeConfig
from facedub.engines.mesh import MeshEngine
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.progress import NoProgress
from facedub.swap import (
    FrameSwapper,
    SwapConfig,
    analyse_target,
    frame_swapper,
    last_frame_of_tracks,
)

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
TORCH = "clip_openface_changelighting_torch_moving_light.wmv"
RUDD = "still_paul_rudd_frontal_studio.jpg"
D3 = "clip_liveportrait_d3_woman_headturn.mp4"
# Frames a "shot" (track) lasts in the renumbered clip: four frames already carry eased
# state (the easing moves every frame), and three shots fit the 0.5 s clip.
SHOT = 4


def test_the_last_frame_of_each_track() -> None:
    records = {index: SimpleNamespace(track=track)  # only `track` is read
               for index, track in ((0, 0), (1, 0), (2, 1), (5, 0), (6, 2))}
    assert last_frame_of_tracks(records) == {0: 5, 1: 2, 2: 6}  # type: ignore[arg-type]


def _swapper(faces_dir: Path, source: Path, clip: Path, work: Path) -> FrameSwapper:
    """No grain: its random numbers are shared by all tracks."""
    engine = MeshEngine(analysed(source, work, ExtractConfig(crop_size=256)),
                        source_path=source)
    config = SwapConfig(work_dir=work, config_dir=work / "config",
                        composite=CompositeConfig(grain=False))
    return frame_swapper(clip, analyse_target(clip, config, NoProgress()), engine, config)


def _as_tracks(swapper: FrameSwapper, track_of: Callable[[int], int]) -> None:
    """The clip's frames renumbered into tracks (as after scene cuts)."""
    swapper.by_frame = {index: replace(record, track=track_of(index))
                        for index, record in swapper.by_frame.items()}
    swapper.last_frames = last_frame_of_tracks(swapper.by_frame)


def test_an_ended_track_leaves_nothing_behind(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """After a track's last face the engine and the compositor hold none of its eased
    state: a track ended early and then shown again comes out exactly as a track that
    starts there (the eased source choice, light, expression, eye and lip shares,
    landmark filter and masks of its earlier frames would carry into it). A video source,
    so that the source choice eases too."""
    clip, source = short_clip(TORCH, 1.2), short_clip(D3, 1.0)
    frames = list(media.iter_frames(clip))[:3 * SHOT]
    ended = _swapper(faces_dir, source, clip, tmp_path / "work")
    _as_tracks(ended, lambda index: 0)
    ended.last_frames = {0: SHOT - 1}
    starting = _swapper(faces_dir, source, clip, tmp_path / "work")
    _as_tracks(starting, lambda index: 0)
    for frame in frames[:SHOT]:
        ended.finish(ended.engine_face(frame))
    for frame in frames[SHOT:]:
        assert np.array_equal(ended.finish(ended.engine_face(frame)),
                              starting.finish(starting.engine_face(frame)))


def test_forgetting_a_track_does_not_change_the_swap(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """Every frame of a clip cut into tracks is the same as when no track is ever
    forgotten (state is dropped only after a track's last face)."""
    clip = short_clip(KATIE, 0.5)
    frames = list(media.iter_frames(clip))[:3 * SHOT]
    assert len(frames) == 3 * SHOT
    source = faces_dir / RUDD
    forgetting = _swapper(faces_dir, source, clip, tmp_path / "work")
    _as_tracks(forgetting, lambda index: index // SHOT)
    keeping = _swapper(faces_dir, source, clip, tmp_path / "work")
    _as_tracks(keeping, lambda index: index // SHOT)
    keeping.last_frames = {}
    for frame in frames:
        assert np.array_equal(forgetting.finish(forgetting.engine_face(frame)),
                              keeping.finish(keeping.engine_face(frame)))
