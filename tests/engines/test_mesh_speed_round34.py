"""The engine thread and a video source's faces at less CPU (issue 13, thirty-fourth
round): each rewritten step gives exactly the values of the formulation it replaced (kept
here), on a real crop; the source cache lists its folder once for all it writes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facedub import fsutil, media
from facedub.engines import mesh_source_cache
from facedub.engines.mesh import CLEAN_ENOUGH, rounded_to_uint8, with_target_where_unclean
from facedub.engines.mesh_clean import clean_weights
from facedub.engines.mesh_source_cache import SourceCache
from facedub.engines.mesh_sources import with_alpha
from facedub.engines.mesh_warp import split_rgba
from facedub.faces.masks import three_channels

SIZE = 440
Aligner = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def kit(faces_dir: Path) -> np.ndarray:
    """A turned face with dark curls over its forehead: clean weights of every level."""
    return media.read_photo(faces_dir / "still_kit_harington_turned.jpg")


def test_a_crop_with_its_clean_weight_is_the_concatenation(kit: np.ndarray,
                                                            aligned_face: Aligner) -> None:
    """`with_alpha` against the thirty-third round's NumPy rounding and concatenation, on
    a real crop's clean weights, on weights at every rounding edge, and on a strided crop."""
    crop, landmarks = aligned_face(kit, SIZE)
    clean = clean_weights(crop, landmarks)
    assert clean.dtype == np.float32 and 0.0 < clean.mean() < 1.0
    edges = ((np.arange(SIZE * SIZE) % 512) / 510.0).astype(np.float32).reshape(SIZE, SIZE)
    nudged = np.nextafter(edges, np.float32(2.0))
    for weights, image in ((clean, crop), (edges, crop), (nudged, crop[::-1])):
        reference = np.concatenate([image, np.round(weights * 255.0).astype(np.uint8)[..., None]],
                                   axis=2)
        assert _same(with_alpha(image, weights), reference)
    kept = clean.copy()
    with_alpha(crop, clean)
    assert _same(clean, kept)  # the caller's weights are left as they were


def test_a_warped_crops_clean_weight_is_scaled_as_before(kit: np.ndarray,
                                                         aligned_face: Aligner) -> None:
    crop, landmarks = aligned_face(kit, SIZE)
    rgba = with_alpha(crop, clean_weights(crop, landmarks))
    colour, cleanness = split_rgba(rgba)
    assert _same(cleanness, rgba[..., 3].astype(np.float32) * (1.0 / 255.0))
    assert _same(colour, rgba[..., :3].astype(np.float32))


def test_the_target_where_unclean_and_the_rounding_are_the_expressions(
        kit: np.ndarray, aligned_face: Aligner) -> None:
    """The engine's face moved to the target where too little is clean, then rounded to
    uint8, in place: the values of `swap_face`'s expressions up to the thirty-third round,
    on a real crop's coverage (its clean weights, doubled so both ends of the clip are
    met) and a face past 0..255 on either side."""
    crop, landmarks = aligned_face(kit, SIZE)
    coverage = clean_weights(crop, landmarks) * np.float32(2.0 * CLEAN_ENOUGH)
    rng = np.random.default_rng(34)
    face = (crop.astype(np.float32) * np.float32(1.1)
            + rng.normal(0.0, 20.0, crop.shape).astype(np.float32))
    face[:4] = np.float32(-3.5)
    face[-4:] = np.float32(260.5)
    expected = face.copy()
    unclean = np.clip(1.0 - coverage / CLEAN_ENOUGH, 0.0, 1.0)
    expected += three_channels(unclean) * (crop - expected)
    got = face.copy()
    with_target_where_unclean(got, crop, coverage)
    assert _same(got, expected)
    assert _same(rounded_to_uint8(got.copy()), np.clip(expected + 0.5, 0, 255).astype(np.uint8))
    ends = np.array([-0.5, -0.50001, 0.49999, 0.5, 254.49998, 254.5, 255.0, 300.0],
                    dtype=np.float32)
    assert _same(rounded_to_uint8(ends.copy()), np.clip(ends + 0.5, 0, 255).astype(np.uint8))


LIKE = ((4, 4), np.dtype(np.float32))


def test_the_source_cache_lists_its_folder_once_for_all_it_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first swap writes hundreds of files into the cache folder: what a killed writer
    left half-written there, of any face, goes at the first write; later writes do not
    list the folder again (each listing and matching took 2.7 ms a file)."""
    cache = SourceCache(tmp_path, {"crop_size": 4}, "code")
    cache.folder.mkdir(parents=True)
    dead = [cache.folder / ".a.clean.999999999.0badcafe.partial.safetensors",
            cache.folder / ".b.interior.999999998.12345678.partial.safetensors"]
    live = cache.folder / f".c.clean.{os.getpid()}.0badcafe.partial.safetensors"
    for path in (*dead, live):
        path.write_bytes(b"half")
    listings: list[Path] = []
    real_sweep = fsutil.remove_stale_partials_in
    monkeypatch.setattr(mesh_source_cache, "remove_stale_partials_in",
                        lambda folder: (listings.append(folder), real_sweep(folder))[1])
    real_one = fsutil.remove_stale_partials

    def one_file(path: Path) -> list[Path]:
        assert path.name == "cache.json", f"{path}: the folder listed again for it"
        return real_one(path)
    monkeypatch.setattr(fsutil, "remove_stale_partials", one_file)
    for face in ("a", "b", "d", "e"):
        cache.get("clean", face, "key", LIKE, lambda: np.ones((4, 4), dtype=np.float32))
    assert listings == [cache.folder]
    assert not any(path.exists() for path in dead) and live.exists()
    assert sorted(p.name for p in cache.folder.iterdir() if not p.name.startswith(".")) == [
        "a.clean.safetensors", "b.clean.safetensors", "cache.json", "d.clean.safetensors",
        "e.clean.safetensors"]


def test_the_folders_sweep_takes_only_dead_writers_partials(tmp_path: Path) -> None:
    """`remove_stale_partials_in`: every name `atomic_path` stages (nested ones too) of a
    process that no longer runs; not a live writer's, nor any other file."""
    names = {".out.999999999.0badcafe.partial.mp4": False,
             "..out.999999999.0badcafe.partial.999999998.12345678.partial.mp4": False,
             ".x.y.999999997.abcdef01.partial": False,
             f".out.{os.getpid()}.0badcafe.partial.mp4": True,
             "out.mp4": True, ".hidden": True, "a.999999999.0badcafe.partial.mp4": True}
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = fsutil.remove_stale_partials_in(tmp_path)
    assert sorted(p.name for p in removed) == sorted(n for n, kept in names.items() if not kept)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for n, kept in names.items() if kept)
