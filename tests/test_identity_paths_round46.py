"""tools/identity_paths.py: eval's person path and filled path on one frame, with one
reference or the described face taken from the other path at a time; `measured` on three
real frames (about 5 s of CPU, 15-20 s at this round's load), which exercises the two
names it patches in `evaluate`."""

from __future__ import annotations

import csv
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facedub import media

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(TOOLS))
    import identity_paths

    return identity_paths


def _unit(axis: int) -> np.ndarray:
    vector = np.zeros(128, dtype=np.float32)
    vector[axis] = 1.0
    return vector


def test_each_column_takes_one_part_from_the_filled_path(tool: Any) -> None:
    """A whole frame that is the target person and a swapped crop that is neither person:
    d(source) - d(target) on eval's person path is sqrt 2; with the source's crop (which
    is where the whole frame lies) or the frame's target crop, or on the crop, none."""
    source, target = _unit(0), _unit(1)
    row = tool.Described(frame=3, whole=_unit(1), swapped=_unit(2), target=_unit(3),
                         source=_unit(1), share=0.0)
    person, src_crop, tgt_frame, swap_crop, filled = tool.margins(row, source, target)
    root = float(np.sqrt(2.0))
    assert person == pytest.approx(root - 0.0)  # on the target person itself
    assert src_crop == pytest.approx(0.0 - 0.0)  # the source's crop is where it stands
    assert tgt_frame == pytest.approx(root - root)
    assert swap_crop == pytest.approx(root - root)
    assert filled == pytest.approx(root - root)


def test_nearer_counts_per_column_and_bin(tool: Any) -> None:
    source, target = _unit(0), _unit(1)
    near_target = tool.Described(1, _unit(1), _unit(0), _unit(2), _unit(0), 0.0)
    near_source = tool.Described(2, _unit(0), _unit(0), _unit(2), _unit(0), 0.0)
    counts = tool.nearer_counts([near_target, near_source], {1: "30-45", 2: "15-30"},
                                source, target)
    assert counts["person"] == {"30-45": (0, 1), "15-30": (1, 1)}
    assert counts["filled"] == {"30-45": (1, 1), "15-30": (1, 1)}


def test_lost_frames_count_as_misses_in_every_column(tool: Any) -> None:
    """A sampled frame whose face was lost has no descriptor; eval counts it as not nearer
    the source, so the tool's columns count it so too (none may read more than eval)."""
    source, target = _unit(0), _unit(1)
    near_source = tool.Described(2, _unit(0), _unit(0), _unit(2), _unit(0), 0.0)
    counts = tool.nearer_counts([near_source], {2: "15-30", 5: "15-30"}, source, target,
                                lost=(5,))
    assert all(bins == {"15-30": (1, 2)} for bins in counts.values())


def test_measured_reads_both_paths_on_real_frames(tool: Any, faces_dir: Path,
                                                 tmp_path: Path) -> None:
    """Three frames of a real clip as the "swap" (the target itself, the middle frame
    blanked, its face lost) against a real photo source: the tool's filled column is the
    margin eval itself reports (every frame on the filled path while it runs), its person
    column agrees with eval's plain nearer-the-source, the lost frame is counted as eval
    counts it, and evaluate's names are restored afterwards."""
    target = faces_dir / "clip_liveportrait_d18_man_frontal_mouth.mp4"
    info = media.probe(target)
    swapped = tmp_path / "blanked.mp4"
    with media.VideoWriter(swapped, info.width, info.height, info.fps) as writer:
        for frame in media.iter_frames(target):
            if frame.index >= 3:
                break
            writer.write(np.zeros_like(frame.image) if frame.index == 1 else frame.image,
                         frame.time)
    occluded: Any = importlib.import_module("facedub.evaluate.occluded_identity")
    measure: Any = importlib.import_module("facedub.evaluate.measure")
    share, with_identity = occluded.MIN_SHARE, measure._with_identity
    found = tool.measured(faces_dir / "still_biden_frontal.jpg", target, swapped,
                          tmp_path / "report", tmp_path / "cache", gallery=None,
                          max_frames=3)
    assert (occluded.MIN_SHARE, measure._with_identity) == (share, with_identity)
    assert [row.frame for row in found.rows] == [0, 2] and found.lost == (1,)
    with (tmp_path / "report" / "frames.csv").open() as file:
        reported = {int(row["frame"]): row for row in csv.DictReader(file)}
    for row in found.rows:
        person, *_, filled = tool.margins(row, found.source, found.target)
        by_eval = reported[row.frame]
        assert filled == pytest.approx(float(by_eval["id_distance_source"])
                                       - float(by_eval["id_distance_target"]), abs=1e-5)
        assert float(person < 0.0) == float(by_eval["id_nearer_source_plain"])
        assert filled > 0.5  # the target's own face: far nearer the target than Biden
    assert reported[1]["status"] == "lost" and float(reported[1]["id_nearer_source"]) == 0.0
    counts = tool.nearer_counts(found.rows, found.yaws, found.source, found.target,
                                found.lost)
    eval_nearer = sum(float(row["id_nearer_source"]) for row in reported.values())
    assert all(sum(n for n, _ in bins.values()) == eval_nearer
               and sum(total for _, total in bins.values()) == 3
               for bins in counts.values())
