import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from facedub import media
from facedub.errors import FacedubError
from facedub.extract import extract
from facedub.extract import run as run_module
from facedub.extract.config import ExtractConfig
from facedub.extract.safety import ExplicitContentError
from facedub.extract.workspace import analysed
from facedub.faceset import Faceset, load_faceset
from facedub.progress import NoProgress

D3 = "clip_liveportrait_d3_woman_headturn.mp4"
D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"
CALL = "clip_ghost_two_person_videocall.mp4"


class _StopAfter(NoProgress):
    """Simulates Ctrl-C after some frames."""

    def __init__(self, frames: int, after: threading.Event | None = None) -> None:
        self.left = frames
        self.after = after

    def advance(self, steps: int = 1) -> None:
        self.left -= steps
        if self.left < 0:
            if self.after is not None:
                self.after.wait(60)
            raise KeyboardInterrupt


@pytest.mark.parametrize("clip", [D3, "clip_videoretalking_5_older_woman_glasses.mp4"])
def test_single_face_clips_have_a_face_on_nearly_every_frame(
        clip: str, extracted: Callable[..., Faceset]) -> None:
    faceset = extracted(clip, max_frames=60, crop_size=128)
    frames_with_face = {record.frame for record in faceset.faces_of()}
    assert len(frames_with_face) >= 57
    assert faceset.meta.frames_analysed == 60
    image = faceset.load_image(faceset.records[0])
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8
    assert faceset.load_mask(faceset.records[0]).shape == (128, 128)


def test_head_turn_clip_spans_forty_degrees_of_yaw(extracted: Callable[..., Faceset]) -> None:
    faceset = extracted(D12, crop_size=64, identity_every=30)
    yaws = [record.pose.yaw for record in faceset.faces_of()]
    assert len(yaws) >= 175
    assert max(yaws) - min(yaws) >= 40.0


def test_photo_with_several_faces_yields_them_all(faces_dir: Path, tmp_path: Path) -> None:
    for name, count in (("multi_group_of_six_sitcom_cast.jpg", 6),
                        ("multi_family_seven_faces_voc.jpg", 7)):
        config = ExtractConfig(max_faces=10, crop_size=64)
        faceset = extract(faces_dir / name, tmp_path / name, config).faceset
        assert len(faceset.records) == count
        assert len(faceset.meta.persons) == count  # all different people


def test_person_reference_chooses_only_that_person(faces_dir: Path, tmp_path: Path) -> None:
    frame = next(media.iter_frames(faces_dir / CALL)).image
    right_half = frame[:, frame.shape[1] // 2:]
    reference = tmp_path / "right_person.png"
    Image.fromarray(right_half).save(reference)
    config = ExtractConfig(max_frames=30, crop_size=64, person_reference=reference)
    faceset = extract(faces_dir / CALL, tmp_path / "call", config).faceset
    chosen = faceset.faces_of()
    assert len(chosen) >= 25
    assert all(record.box[0] > frame.shape[1] / 2 for record in chosen)
    others = [r for r in faceset.records if r.person != faceset.meta.person]
    assert others and all(record.box[2] < frame.shape[1] / 2 for record in others[:5])


    # The finished analysis is reused for another choice, and without a reference the
    # default person (most screen time) is back, not the last one a reference chose.
    left = tmp_path / "left_person.png"
    Image.fromarray(frame[:, :frame.shape[1] // 2]).save(left)
    again = extract(faces_dir / CALL, tmp_path / "call", replace(config, person_reference=left))
    assert again.frames_resumed == again.frames_analysed  # nothing analysed again
    default = extract(faces_dir / CALL, tmp_path / "call", replace(config,
                                                                    person_reference=None))
    assert again.faceset.meta.person != default.faceset.meta.person == 0
    assert default.faceset.meta.reference_distance is None


def test_interrupted_extraction_resumes(faces_dir: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "faces"
    config = ExtractConfig(max_frames=24, crop_size=64)
    # The Ctrl-C lands once the content check has passed: one landing before stops the
    # check, and nothing is written (no frame is kept unchecked).
    checked = threading.Event()
    check = run_module._check

    def noted(*args: Any) -> object:
        try:
            return check(*args)
        finally:
            checked.set()

    monkeypatch.setattr(run_module, "_check", noted)
    with pytest.raises(KeyboardInterrupt):
        extract(faces_dir / D3, out, config, _StopAfter(10, checked))
    with pytest.raises(FacedubError, match="incomplete"):
        load_faceset(out)
    result = extract(faces_dir / D3, out, config)
    assert 9 <= result.frames_resumed <= 11
    assert result.frames_analysed == 24
    assert [r.frame for r in result.faceset.records] == list(range(24))


def test_another_input_into_a_faceset_is_refused(faces_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "faces"
    extract(faces_dir / "still_biden_frontal.jpg", out, ExtractConfig(crop_size=64))
    before = sorted(p.name for p in out.rglob("*"))
    with pytest.raises(FacedubError, match="another input"):
        extract(faces_dir / "still_rose_leslie_frontal.jpg", out, ExtractConfig(crop_size=64))
    with pytest.raises(FacedubError, match="other settings"):
        extract(faces_dir / "still_biden_frontal.jpg", out, ExtractConfig(crop_size=128))
    assert sorted(p.name for p in out.rglob("*")) == before


def test_damaged_faceset_says_what_is_wrong(faces_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "faces"
    faceset = extract(faces_dir / "still_biden_frontal.jpg", out,
                      ExtractConfig(crop_size=64)).faceset
    records = (out / "faces.jsonl").read_text().splitlines()
    broken = json.loads(records[0])
    broken["landmarks"] = broken["landmarks"][:10]
    (out / "faces.jsonl").write_text(json.dumps(broken) + "\n")
    with pytest.raises(FacedubError, match=r"line 1: landmarks have shape \(10, 3\)"):
        load_faceset(out)
    (out / "faces.jsonl").write_text(records[0] + "\n")
    (out / faceset.records[0].image).unlink()
    with pytest.raises(FacedubError, match="is missing"):
        load_faceset(out)
    (out / "faceset.json").write_text("{not json")
    with pytest.raises(FacedubError, match="not valid JSON"):
        load_faceset(out)


def test_no_face_anywhere_leaves_nothing(tmp_path: Path) -> None:
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 300, 3), 180, np.uint8)).save(blank)
    out = tmp_path / "faces"
    with pytest.raises(FacedubError, match="no face found"):
        extract(blank, out, ExtractConfig())
    assert not out.exists()


def test_folder_of_photos_is_one_source(faces_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("still_biden_frontal.jpg", "still_rowan_atkinson_older_man.jpg"):
        (folder / name).write_bytes((faces_dir / name).read_bytes())
    faceset = extract(folder, tmp_path / "faces", ExtractConfig(crop_size=64)).faceset
    assert sorted(r.source for r in faceset.records) == [
        "still_biden_frontal.jpg", "still_rowan_atkinson_older_man.jpg"]
    # Every face of a folder of photos is a still's: its faceset is a photo source, so
    # the engines' photo-only rules read it (tests/test_folder_of_one_photo_round49.py).
    assert faceset.meta.source_kind == "photo"


class _FlagsEverything:
    def scores(self, image: np.ndarray) -> dict[str, float]:
        return {"BUTTOCKS_EXPOSED": 0.9}


def test_explicit_input_is_refused_and_nothing_is_left(faces_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "faces"
    with pytest.raises(ExplicitContentError, match="refused"):
        extract(faces_dir / D3, out, ExtractConfig(max_frames=40, crop_size=64),
                detector=_FlagsEverything())
    assert not out.exists()


def test_two_swaps_of_one_target_at_once_share_one_analysis(faces_dir: Path,
                                                           tmp_path: Path) -> None:
    # Unlocked, both wrote every frame into the shared work folder: 2x the records, the
    # track split in two, frames of the chosen person lost.
    config = ExtractConfig(max_frames=12, crop_size=64)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(analysed, faces_dir / D3, tmp_path / "work", config)
                for _ in range(2)]
        facesets = [run.result() for run in runs]
    for faceset in facesets:
        assert faceset.meta.frames_analysed == 12
        assert sorted(record.frame for record in faceset.faces_of()) == list(range(12))


def test_facesets_cut_before_the_antialiased_crops_are_not_resumed_or_reused() -> None:
    # The crops' filter takes part in the settings a re-run and the swap's cache must match:
    # a faceset of aliased crops (made before) is extracted again, not mixed with new ones.
    with_crops = ExtractConfig().resumable_settings()
    assert with_crops["crop_filter"] == "antialiased"
    assert "crop_filter" not in ExtractConfig(write_crops=False).resumable_settings()


def test_a_folder_left_by_a_run_killed_at_its_start_is_extracted_into(
        faces_dir: Path, tmp_path: Path) -> None:
    """A batch worker SIGKILLed while it began an analysis left empty face and mask
    folders and no faceset.json (or only its dead writer's partial copy); the job's retry
    was refused the folder as "not empty", and the batch failed the job."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    out = tmp_path / "faces"
    (out / "faces").mkdir(parents=True)
    (out / "masks").mkdir()
    partial = out / f".faceset.{int(dead.stdout)}.0a1b2c3d.partial.json"
    partial.write_text("{")
    result = extract(faces_dir / "still_biden_frontal.jpg", out, ExtractConfig(crop_size=64))
    assert result.faceset.meta.complete and not partial.exists()
    # Anything else in the folder is still someone's: refused, left as it was.
    other = tmp_path / "other"
    (other / "faces").mkdir(parents=True)
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FacedubError, match="not empty and holds no faceset"):
        extract(faces_dir / "still_biden_frontal.jpg", other, ExtractConfig(crop_size=64))
    assert sorted(p.name for p in other.iterdir()) == ["faces", "notes.txt"]
