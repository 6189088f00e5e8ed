"""A video source's faces at less CPU (issue 13, thirty-first round): each new computation
of `mesh_contributions` and `mesh_mirror` gives exactly the values of the one it replaced,
on the inputs of real swaps (a video source's several faces a frame, their irises moved;
a turned photo whose far side takes the mirror; the light given back), and does the less
work it is there for."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_contributions
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_contributions import (
    MIRROR_BELOW,
    MIRROR_MIN_AREA,
    MIRROR_PREFERENCE,
    MIRROR_STANDS_IN,
    Contribution,
    MirrorShare,
    SourceFace,
    TargetFrame,
    mesh_reach,
    moved_towards,
    source_contribution,
    summed,
    warped,
)
from facedub.engines.mesh_eyes import looking_as_target
from facedub.engines.mesh_mirror import (
    levelled_mirror,
    no_darker_than_clean_direct,
    nose_wing_triangles,
)
from facedub.engines.mesh_warp import (
    clamped_maps,
    coarse_smooth_upsample,
    source_maps,
    split_rgba,
)
from facedub.faces.masks import bounds_or_empty, three_channels
from facedub.faceset import Faceset

VIDEO = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # several faces a frame
TURNED = "still_kit_harington_turned.jpg"  # the mirror fill runs
TARGET = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256

Call = tuple[SourceFace, TargetFrame]


@pytest.fixture(scope="module")
def calls(extracted: Callable[..., Faceset],
          first_target_face: Callable[..., TargetFace]) -> list[Call]:
    """`source_contribution`'s inputs in real swaps: the video source's faces (three
    frames, the irises moved to the target's gaze) and the turned photo's; each face once
    more with the light given back (its crop as on disk, a third of the way)."""
    recorded: list[Call] = []

    def recording(face: SourceFace, frame: TargetFrame) -> Contribution:
        recorded.append((face, frame))
        return source_contribution(face, frame)

    target = first_target_face(TARGET, CROP)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mesh_contributions, "source_contribution", recording)
        for name, frames in ((VIDEO, 3), (TURNED, 1)):
            source = (extracted(VIDEO, max_frames=12, every=3, crop_size=CROP) if name == VIDEO
                      else extracted(TURNED, max_frames=1, crop_size=CROP))
            engine = MeshEngine(source)
            try:
                for _ in range(frames):
                    engine.swap_face(target)
            finally:
                engine.close()
    assert any(frame.gaze is not None for _, frame in recorded), "no iris moved"
    lit = [(dataclasses.replace(face, unlifted=np.ascontiguousarray(face.crop[..., :3]),
                                shared=0.3), frame) for face, frame in recorded]
    return recorded + lit


def _before(face: SourceFace, frame: TargetFrame) -> Contribution:
    """`source_contribution` as it was at the thirtieth round's end (main eacd747), with
    the forty-fifth round's crease rule on the nose wings (`no_darker_than_clean_direct`)."""
    raster, size, weight = frame.raster, frame.size, face.weight
    crop, direct, mirror = face.crop, face.direct, face.mirror
    smooth = size / 48.0
    maps = source_maps(raster, face.vertices, direct.triangles, size)
    map_x, map_y = clamped_maps(*maps, crop.shape)
    texture, cleanness = split_rgba(cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_REPLICATE))
    if face.unlifted is not None:
        unlifted = cv2.remap(face.unlifted, map_x, map_y, cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        moved_towards(texture, unlifted, face.shared)
    if frame.gaze is not None:
        texture = looking_as_target(texture, frame.gaze[0], face.iris, frame.gaze[1])
    trust = coarse_smooth_upsample(weight * (direct.visibility[raster.triangle] + 1e-3),
                                   raster, size, smooth) * (cleanness + 1e-3)
    direct_share = Contribution(maps, texture * three_channels(trust), trust,
                                weight * cleanness, None)
    direct_clean = cleanness
    turned_away = np.clip(1.0 - direct.visibility / MIRROR_BELOW, 0.0, 1.0) * np.clip(
        (mirror.visibility - direct.visibility) / 0.3, 0.0, 1.0)
    need = coarse_smooth_upsample(turned_away[raster.triangle], raster, size, smooth)
    if face.mirror_cleans:
        need = np.maximum(need, (1.0 - cleanness) * frame.inside)
    if np.count_nonzero(need > 0.2) < MIRROR_MIN_AREA * size * size:
        return direct_share
    box = bounds_or_empty(need > 0.05)
    map_x, map_y = clamped_maps(*source_maps(raster, face.vertices, mirror.triangles, size,
                                             box), crop.shape)
    mirrored, cleanness = split_rgba(cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR,
                                               borderMode=cv2.BORDER_REPLICATE))
    used = cleanness * need[box]
    mirror_trust = coarse_smooth_upsample(
        weight * (mirror.visibility[raster.triangle] + 1e-3), raster, size, smooth
    )[box] * (used + 1e-3)
    levelled = levelled_mirror(mirrored, mirror_trust, texture[box], trust[box], size)
    wings = coarse_smooth_upsample(
        nose_wing_triangles(direct.triangles, mirror.triangles)[raster.triangle], raster, size,
        smooth)[box] * np.minimum(used * np.float32(1.0 / MIRROR_STANDS_IN), np.float32(1.0))
    levelled = no_darker_than_clean_direct(levelled, texture[box], direct_clean[box], wings,
                                           size)
    mirror_trust = mirror_trust * MIRROR_PREFERENCE
    return Contribution(maps, direct_share.weighted, trust, direct_share.clean_weight,
                        MirrorShare(box, levelled * three_channels(mirror_trust), mirror_trust,
                                    weight * used))


def _arrays(made: Contribution) -> list[np.ndarray]:
    arrays = [*made.maps, made.weighted, made.trust, made.clean_weight]
    if made.mirror is not None:
        arrays += [made.mirror.weighted, made.mirror.trust, made.mirror.used_weight]
    return arrays


def _same(one: list[np.ndarray], other: list[np.ndarray]) -> bool:
    return len(one) == len(other) and all(
        a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
        for a, b in zip(one, other, strict=True))


def test_each_faces_contribution_is_the_one_before_to_the_bit(calls: list[Call]) -> None:
    """The products in place, the remap inside the mesh's reach: the same values as the
    thirtieth round's, the mirror boxes the same, with and without the light given back."""
    assert any(_before(*call).mirror is not None for call in calls), "no mirror fill ran"
    for call in calls:
        before, now = _before(*call), source_contribution(*call)
        assert _same(_arrays(before), _arrays(now))
        assert (before.mirror is None) == (now.mirror is None)
        if before.mirror is not None and now.mirror is not None:
            assert before.mirror.box == now.mirror.box


def test_the_remap_reads_only_the_meshs_reach_and_gives_the_whole_crops_values(
        calls: list[Call], monkeypatch: pytest.MonkeyPatch) -> None:
    """`warped` remaps the box the mesh reaches (about half the crop here) and puts the
    crop's first pixel round it: the values of the whole crop's remap, both maps -1
    (uncovered) everywhere outside the box."""
    face, frame = calls[0]
    maps = source_maps(frame.raster, face.vertices, face.direct.triangles, frame.size)
    reach = mesh_reach(frame.raster, frame.size)
    outside = np.ones(maps[0].shape, dtype=bool)
    outside[reach] = False
    assert np.all(maps[0][outside] == -1.0) and np.all(maps[1][outside] == -1.0)
    shapes: list[tuple[int, ...]] = []
    remap = cv2.remap

    def recorded(image: np.ndarray, map_x: np.ndarray, *args: object,
                 **kwargs: object) -> np.ndarray:
        shapes.append(map_x.shape)
        return remap(image, map_x, *args, **kwargs)

    for image in (face.crop, np.ascontiguousarray(face.crop[..., :3])):
        whole = remap(image, *clamped_maps(*maps, image.shape), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)
        with monkeypatch.context() as patch:
            patch.setattr(cv2, "remap", recorded)
            made = warped(image, maps, reach)
        assert made.tobytes() == whole.tobytes() and made.shape == whole.shape
    rows, columns = reach
    assert shapes == [(rows.stop - rows.start, columns.stop - columns.start)] * 2
    assert shapes[0][0] * shapes[0][1] < 0.8 * frame.size**2


def test_no_mesh_drawn_gives_the_first_pixel_everywhere() -> None:
    crop = np.random.default_rng(3).integers(0, 256, (32, 32, 4), dtype=np.uint8)
    maps = (np.full((20, 20), -1.0, np.float32), np.full((20, 20), -1.0, np.float32))
    made = warped(crop, maps, (slice(0, 0), slice(0, 0)))
    assert made.shape == (20, 20, 4) and np.all(made == crop[0, 0])


def test_the_sums_start_from_the_first_faces_own_arrays_to_the_same_bits(
        calls: list[Call]) -> None:
    """`summed`: the blend's sums as added to zeros face by face (`add_to`), the first
    face's arrays taken as the start (no zeroed arrays made)."""
    frames: dict[int, list[Call]] = {}
    for face, frame in calls[:len(calls) // 2]:
        frames.setdefault(id(frame), []).append((face, frame))
    several = [group for group in frames.values() if len(group) > 1]
    assert several and any(source_contribution(*call).mirror is not None
                           for group in several for call in group)
    for group in several:
        size = group[0][1].size
        total = np.zeros((size, size, 3), dtype=np.float32)
        weight_sum = np.zeros((size, size), dtype=np.float32)
        coverage = np.zeros((size, size), dtype=np.float32)
        for call in group:
            source_contribution(*call).add_to(total, weight_sum, coverage)
        made = [source_contribution(*call) for call in group]
        sums = summed(made, size)
        assert sums[0] is made[0].weighted and sums[1] is made[0].trust
        assert _same(list(sums), [total, weight_sum, coverage])
    empty = summed([], 8)
    assert [a.shape for a in empty] == [(8, 8, 3), (8, 8), (8, 8)]
    assert not any(a.any() for a in empty)


def test_the_mirror_levelled_from_a_box_of_the_texture_as_from_its_copy(
        calls: list[Call]) -> None:
    """`levelled_mirror` reads the direct texture's box in place (its rows apart): the
    values of a contiguous copy's, and its inputs are left as they were."""
    rng = np.random.default_rng(5)
    texture = rng.uniform(0, 255, (96, 96, 3)).astype(np.float32)
    trust = rng.uniform(0, 1, (96, 96)).astype(np.float32)
    mirrored = rng.uniform(0, 255, (60, 50, 3)).astype(np.float32)
    mirror_trust = rng.uniform(0, 1, (60, 50)).astype(np.float32)
    box = (slice(20, 80), slice(30, 80))
    kept = [texture.copy(), mirrored.copy(), mirror_trust.copy()]
    in_place = levelled_mirror(mirrored, mirror_trust, texture[box], trust[box], 96)
    copied = levelled_mirror(mirrored, mirror_trust, texture[box].copy(), trust[box].copy(), 96)
    assert in_place.tobytes() == copied.tobytes()
    assert _same([texture, mirrored, mirror_trust], kept)
