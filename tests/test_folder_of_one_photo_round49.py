"""A photo given in a folder of its own is the same photo (forty-ninth round). Its faceset
said `source_kind` "folder", so the engines' photo-only rules (a held object looked for,
the far wing's own share, the open glance) left it out: on main the grimace photo onto
the first 30 frames of Obama's clip (expr-grimace) moved every frame against the same
photo given as a file. A folder of photos is now a photo source (`FacesetMeta`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facedub import media
from facedub.engines.mesh import MeshEngine
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.faceset import load_faceset
from facedub.swap import SwapConfig, swap

GRIMACE = "still_man_angry_grimace.png"  # expr-grimace's source: an open-lidded glance
OBAMA = "clip_deepfacelive_obama_speaking.mp4"  # its target


def _swapped_frames(source: Path, target: Path, out: Path, work: Path) -> list[np.ndarray]:
    faceset = analysed(source, work, ExtractConfig(crop_size=256))
    assert faceset.meta.source_kind == "photo"
    engine = MeshEngine(faceset, source_path=source)
    swap(target, engine, out, SwapConfig(work_dir=work, config_dir=work / "config",
                                         job_id=4049))
    return [frame.image for frame in media.iter_frames(out)]


def test_a_photo_in_a_folder_of_its_own_swaps_as_the_photo(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    folder = tmp_path / "one photo"
    folder.mkdir()
    shutil.copy(faces_dir / GRIMACE, folder / GRIMACE)
    target = short_clip(OBAMA, 0.2)  # 6 frames at 30 frames/s
    work = tmp_path / "work"
    as_file = _swapped_frames(faces_dir / GRIMACE, target, tmp_path / "file.mp4", work)
    as_folder = _swapped_frames(folder, target, tmp_path / "folder.mp4", work)
    assert len(as_file) == len(as_folder) == 6
    for index, (one, other) in enumerate(zip(as_file, as_folder, strict=True)):
        assert np.array_equal(one, other), f"frame {index} differs"


def test_a_faceset_written_with_the_folder_kind_reads_as_a_photo(
        faces_dir: Path, tmp_path: Path) -> None:
    """Facesets of folders extracted before this round said "folder" in faceset.json."""
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(faces_dir / GRIMACE, folder / GRIMACE)
    faceset = analysed(folder, tmp_path / "work", ExtractConfig(crop_size=64))
    meta_file = faceset.root / "faceset.json"
    text = meta_file.read_text()
    assert '"kind": "photo"' in text
    meta_file.write_text(text.replace('"kind": "photo"', '"kind": "folder"'))
    assert load_faceset(faceset.root).meta.source_kind == "photo"
