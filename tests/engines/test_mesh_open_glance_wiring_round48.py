"""The mesh engine hands `target_eyes_share` a photo's open glance (issue 17, forty-eighth
round): the grimace photo, read as looking down with its lids wide open, reaches the engine
with its glance; the same faces read as a video's, and the downcast photo (its lids 0.70 of
the iris apart), with none, so their swaps stay as before (BENCHMARKS.md, forty-eighth
round: expr-grimace smile 130 -> 149 of 160, the other 25 pairs unchanged)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from facedub.engines.mesh import MeshEngine
from facedub.faceset import Faceset

GRIMACE = "still_man_angry_grimace.png"
DOWNCAST = "still_woman_dark_skin_downcast.jpg"
CROP = 128


def _glances(source: Faceset) -> list[float]:
    """Each source face's open glance as the engine keeps it (its irises' fourth column)."""
    engine = MeshEngine(source)
    return [float(irises[0, 3]) for irises in engine._irises]


def test_the_grimace_photo_reaches_the_engine_with_its_glance(
        extracted: Callable[..., Faceset]) -> None:
    photo = extracted(GRIMACE, crop_size=CROP)
    assert photo.meta.source_kind == "photo"
    assert _glances(photo) == [1.0]


def test_a_video_source_and_a_downcast_photo_have_none(
        extracted: Callable[..., Faceset]) -> None:
    photo = extracted(GRIMACE, crop_size=CROP)
    as_video = replace(photo, meta=replace(photo.meta, source_kind="video"))
    assert _glances(as_video) == [0.0]
    assert _glances(extracted(DOWNCAST, crop_size=CROP)) == [0.0]
