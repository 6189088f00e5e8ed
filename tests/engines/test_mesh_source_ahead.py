"""A first swap from a video source: the faces its target's frames will blend made ahead on
a thread of their own (`MeshEngine.prepare`, `SourceFaces.make_in_background`), in the
order the engine's choice first blends them (`mesh_choice.first_uses`): the same frames to
the bit, the engine thread making none of them again, and `close` stopping the thread
with nothing half written."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facedub.engines import mesh_sources
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_choice import first_uses
from facedub.engines.mesh_source_cache import CACHE_DIR
from facedub.faceset import FaceRecord, Faceset, load_faceset

SOURCE = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # a video: several faces a frame
TARGET = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256
AHEAD = "facedub-source-ahead"


@pytest.fixture
def source(extracted: Callable[..., Faceset], tmp_path: Path) -> Faceset:
    """The video source's faceset, a copy of the session's (its cache written here)."""
    shared = extracted(SOURCE, max_frames=12, every=3, crop_size=CROP)
    shutil.copytree(shared.root, tmp_path / "faces")
    return load_faceset(tmp_path / "faces")


def _targets(source: Faceset) -> list[FaceRecord]:
    """Target faces in frame order: the source's own poses and expressions reversed, in
    two tracks, the second starting where the first ends."""
    records = list(reversed(source.faces_of()))
    half = len(records) // 2
    return [dataclasses.replace(record, track=0 if position < half else 1)
            for position, record in enumerate(records)]


def _as_target(record: FaceRecord, like: TargetFace) -> TargetFace:
    return dataclasses.replace(like, pose=record.pose, blendshapes=record.blendshapes,
                               track=record.track)


def _finish_background(engine: MeshEngine) -> None:
    background = engine._faces._background
    assert background is not None
    background[0].join(timeout=120)


def test_first_uses_replays_the_engines_choice(
        source: Faceset, first_target_face: Callable[..., TargetFace]) -> None:
    """The faces the engine's eased choice blends over the target's frames, in the order
    of first use, each track's blend dropped at its end as `end_track` drops it."""
    like = first_target_face(TARGET, CROP)
    targets = _targets(source)
    engine = MeshEngine(source)
    try:
        used: dict[int, None] = {}
        last = {record.track: position for position, record in enumerate(targets)}
        for position, record in enumerate(targets):
            used.update(dict.fromkeys(engine._choose_sources(_as_target(record, like))))
            if last[record.track] == position:
                engine.end_track(record.track)
        config = engine.config
        replayed = first_uses(engine._poses, engine._expressions, [
            (r.track, np.array([r.pose.yaw, r.pose.pitch, r.pose.roll]),
             np.asarray(r.blendshapes)[engine._expression_keys]) for r in targets],
            config.degrees_per_unit, config.expression_weight, config.neighbours,
            config.follow)
    finally:
        engine.close()
    assert len(used) > 3
    assert replayed == list(used)


def test_faces_made_ahead_swap_to_the_same_bits_and_are_not_made_again(
        source: Faceset, first_target_face: Callable[..., TargetFace], tmp_path: Path,
        record_threads: Callable[[object, str], list[str]]) -> None:
    """Made ahead, every face the frames blend is made once, on the thread of its own,
    and the frames are those of an engine that made each face as a frame first blended
    it (each with a cache folder of its own: both first swaps)."""
    like = first_target_face(TARGET, CROP)
    targets = _targets(source)[:6]
    cleaned = record_threads(mesh_sources, "clean_weights")
    ahead = MeshEngine(source, cache_dir=tmp_path / "ahead")
    try:
        ahead.prepare(targets)
        _finish_background(ahead)
        assert cleaned and set(cleaned) == {AHEAD}
        made = len(cleaned)
        frames = [ahead.swap_face(_as_target(record, like)).image for record in targets]
        # Only the lips' own faces (mesh_source_mouth) may be new to the engine thread.
        assert cleaned[:made] == [AHEAD] * made and AHEAD not in cleaned[made:]
    finally:
        ahead.close()
    assert ahead._faces._background is None
    cleaned.clear()
    in_turn = MeshEngine(source, cache_dir=tmp_path / "in-turn")
    try:
        expected = [in_turn.swap_face(_as_target(record, like)).image for record in targets]
    finally:
        in_turn.close()
    assert AHEAD not in cleaned and len(cleaned) >= made
    for one, other in zip(frames, expected, strict=True):
        assert one.tobytes() == other.tobytes()


def test_close_stops_the_faces_made_ahead_with_nothing_half_written(
        source: Faceset, tmp_path: Path) -> None:
    """`close` while faces are made ahead: the thread stops after its face and is gone,
    every file left whole (a later engine reads them back), none partial."""
    engine = MeshEngine(source, cache_dir=tmp_path / "work")
    try:
        engine.prepare(_targets(source))
    finally:
        engine.close()
    assert engine._faces._background is None
    assert not any(thread.name == AHEAD for thread in threading.enumerate())
    folder = tmp_path / "work" / CACHE_DIR
    assert not [path for path in folder.rglob("*") if ".partial" in path.name]
    later = MeshEngine(source, cache_dir=tmp_path / "work")
    try:
        for index in range(len(source.faces_of())):
            later._faces.clean_crop(index)
    finally:
        later.close()


def test_nothing_is_made_ahead_without_the_disk(source: Faceset) -> None:
    """Kept in memory only (a library caller's engine), a face made far ahead would be let
    go by the small caches and made again: nothing is started."""
    engine = MeshEngine(source)
    try:
        engine.prepare(_targets(source))
        assert engine._faces._background is None
    finally:
        engine.close()


def test_a_later_swap_reads_nothing_ahead(source: Faceset, tmp_path: Path) -> None:
    """From the second swap every face is on disk: read back as a frame needs it, not
    ahead, where the small caches would let the first ones go before they are used."""
    targets = _targets(source)
    for swap in range(2):
        engine = MeshEngine(source, cache_dir=tmp_path)
        try:
            engine.prepare(targets)
            _finish_background(engine)
            held = len(engine._faces._crops._values)
        finally:
            engine.close()
        assert held > 0 if swap == 0 else held == 0


def test_the_swap_tells_the_engine_its_targets_faces_in_frame_order(
        short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """`frame_swapper` hands the engine (through a refiner too) the target's chosen
    faces, one a frame in frame order, before the frames run; an engine without `prepare`
    (the neural one) is swapped as before."""
    from types import SimpleNamespace

    from facedub.engines.refiner import RefinedEngine
    from facedub.progress import NoProgress
    from facedub.swap import SwapConfig, analyse_target, frame_swapper

    clip = short_clip("clip_sadtalker_hdtf_katiehill_headturn.mp4", 0.5)
    config = SwapConfig(work_dir=tmp_path / "work", config_dir=tmp_path / "config")
    faceset = analyse_target(clip, config, NoProgress())
    told: list[list[FaceRecord]] = []
    base = SimpleNamespace(coverage="whole", prepare=told.append)
    refined = RefinedEngine(base, None, facts=None)  # type: ignore[arg-type]
    swapper = frame_swapper(clip, faceset, refined, config)
    (faces,) = told
    assert faces == [swapper.by_frame[index] for index in sorted(swapper.by_frame)]
    assert len(faces) > 5
    frame_swapper(clip, faceset, SimpleNamespace(coverage="whole"),  # type: ignore[arg-type]
                  config)
