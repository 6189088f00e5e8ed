"""engines/mesh_mouth_read.py on the border photo (a closed-lipped smile, mouthSmile 0.28,
`photo_lips_open` 0.0) onto d3's talking head turn, frames 0-10 (she rests on 0-5 and smiles from
frame 7): the read-back reads the drawn mouth's corners higher than drawn on every frame, at rest
and smiling. Lowered by the scheduled readings alone (frame 0's until frame 12), as the fifty-first
round traced, border-photo's smiling frames 10-18 read 0.08-0.10 more smile than d3's (issue 17,
frames 10-11 misses), 0.10-0.16 with the photo's lips drawn over her opening where her mouth is
wider than the photo's (issue 9); a closed-lipped smiling photo's smiling frame is lowered by the
readings taken at a smile (fifty-second round). Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.engines import mesh_mouth_read
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import mean_smile
from facedub.engines.mesh_mouth_read import LIFT_NOISE, SMILE_MIN, MouthReads, misread
from facedub.faceset import Faceset
from target_support import target_from_frame

BORDER = "still_woman_dark_skin_downcast.jpg"
HEADTURN = "clip_liveportrait_d3_woman_headturn.mp4"
CROP = 256
FRAMES = 11  # d3 rests on 0-5, smiles 0.14-0.28 on 7-10


def _d3_faces(extracted: Callable[..., Faceset], faces_dir: Path) -> list[TargetFace]:
    """d3's faces on frames 0..FRAMES-1 aligned at CROP as the swap aligns them (track 0)."""
    records = {r.frame: r for r in extracted(HEADTURN, max_frames=FRAMES,
                                             crop_size=CROP).faces_of()}
    faces = []
    for frame in media.iter_frames(faces_dir / HEADTURN, indices=set(range(FRAMES))):
        record = records[frame.index]
        faces.append(target_from_frame(frame.image, record.frame_landmarks, CROP,
                                       record.pose, record.blendshapes))
    return faces


def test_d3s_smiling_frames_are_lowered_by_the_readings_taken_where_she_smiles(
        extracted: Callable[..., Faceset], faces_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every reading of the drawn mouth on d3's frames 0-10, at rest and smiling, reads its
    corners higher than drawn, well beyond the noise; after frame 10's reading (her smile
    0.27) the read-back wants her smiling corners lowered by the median of the readings
    taken at a smile less the noise, to the bit, and her resting ones by frame 0's (main:
    frame 0's at every smile, 0.0164; the test fails there).

    Measured (this machine): frame 0 (scheduled, at rest) 0.0214 eye distances higher than
    drawn; the readings for the smile, frame 7 (0.139) 0.0205 and frame 10 (0.273) 0.0299;
    the lowering wanted at frame 10's smile their median less the noise, 0.0202. Read on
    every frame (`due` forced; BENCHMARKS.md, fifty-first round) the misreading does not
    rise with her smile in this setting (frame 9, 0.277: 0.020), so no test compares one
    frame's reading with another's. Margin: the least reading (0.020) is 0.010 beyond the
    asserted 2 LIFT_NOISE."""
    taken: list[tuple[float, float, bool]] = []  # (how much higher drawn, smile, scheduled)
    add = MouthReads.add

    def recorded(self: MouthReads, track: int, drawn: np.ndarray, read: np.ndarray,
                 smile: float, scheduled: bool = True) -> None:
        taken.append((misread(drawn, read)[0], smile, scheduled))
        add(self, track, drawn, read, smile, scheduled)

    monkeypatch.setattr(mesh_mouth_read.MouthReads, "add", recorded)
    faces = _d3_faces(extracted, faces_dir)
    engine = MeshEngine(extracted(BORDER, max_frames=1, crop_size=CROP), MeshEngineConfig())
    try:
        for face in faces:
            engine.swap_face(face)
    finally:
        engine.close()
    at_rest = [higher for higher, smile, scheduled in taken if scheduled and smile < SMILE_MIN]
    smiling = [higher for higher, smile, _ in taken if smile >= SMILE_MIN]
    assert len(at_rest) == 1 and len(smiling) >= 1  # frame 0; 7 and 10 (or 9)
    # The photo's closed smile reads higher than drawn on d3, at rest and smiling (0.020
    # at least, LIFT_NOISE 0.005).
    assert max(higher for higher, _, _ in taken) < -2 * LIFT_NOISE
    smile = mean_smile(faces[-1].blendshapes)
    assert smile > SMILE_MIN
    reads = engine._mouth_reads
    assert reads.wanted(0, smile).lift == pytest.approx(
        float(np.median(smiling)) + LIFT_NOISE, abs=1e-9)
    assert reads.wanted(0, 0.0).lift == pytest.approx(at_rest[0] + LIFT_NOISE, abs=1e-9)
