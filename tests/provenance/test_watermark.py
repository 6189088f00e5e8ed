"""Invisible watermark: payload, invisibility, and survival of the edits shared video goes
through (numbers measured by benchmarks/watermark_robustness.py; asserted with margin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from provenance_media import (
    CLIP,
    PAYLOAD,
    SECONDS,
    crop_borders,
    half_size,
    unchanged,
    write_video,
)

from facedub import media
from facedub.errors import FacedubError
from facedub.evaluate.realism import fidelity
from facedub.provenance import search
from facedub.provenance.watermark import (
    FACEDUB_TAG,
    MASK,
    MASK_V1,
    MaskShape,
    WatermarkDetector,
    WatermarkEmbedder,
    WatermarkPayload,
    embed_watermark,
    read_watermark,
)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / error)


def test_payload_bits_hold_the_tag_then_the_job_id() -> None:
    payload = WatermarkPayload(job_id=0x1234)
    assert payload.value == (FACEDUB_TAG << 16) | 0x1234
    assert len(payload.bits) == 32
    assert int("".join(map(str, payload.bits[:16])), 2) == FACEDUB_TAG
    assert int("".join(map(str, payload.bits[16:])), 2) == 0x1234
    assert payload.symbols == (0x12, 0x34)


@pytest.mark.parametrize("job_id", [-1, 65536])
def test_payload_rejects_out_of_range_job_ids(job_id: int) -> None:
    with pytest.raises(FacedubError, match=r"0\.\.65535"):
        WatermarkPayload(job_id)


def test_embedding_is_invisible_and_deterministic(faces_dir: Path) -> None:
    frame = next(media.iter_frames(faces_dir / "clip_liveportrait_d10_woman_expressions.mp4"))
    embedder = WatermarkEmbedder(PAYLOAD)
    marked = embedder.embed(frame.image)
    assert marked.shape == frame.image.shape and marked.dtype == np.uint8
    assert psnr(frame.image, marked) >= 40.0
    assert np.array_equal(marked, embed_watermark(frame.image, PAYLOAD))  # deterministic


def test_marked_video_reads_back_with_its_payload(marked_video: Path) -> None:
    reading = read_watermark(marked_video)
    assert reading.found and reading.payload == PAYLOAD
    assert reading.scale == (1.0, 1.0)
    assert reading.score > search.NOMINAL_THRESHOLD + 6
    assert reading.frames_agreeing >= 0.9
    assert reading.frames_read == media.probe(marked_video).frame_count


# Scores measured on this 2.5 s clip (3 job ids): 17-19 (crf28), 8-10 (half), 12-13 (crop10).
@pytest.mark.parametrize(("edit", "margin"), [(unchanged, 5.0), (half_size, 2.0),
                                              (crop_borders, 3.0)],
                         ids=["crf28", "half", "crop10"])
def test_mark_survives_reencoding_edits(marked_video: Path, tmp_path: Path, edit: object,
                                        margin: float) -> None:
    edited = write_video(marked_video, tmp_path / "edited.mp4", edit, crf=28)  # type: ignore[arg-type]
    reading = read_watermark(edited)
    assert reading.found and reading.payload == PAYLOAD
    assert reading.score >= reading.threshold + margin


def test_mark_survives_a_jpeg70_frame_grab(marked_video: Path, tmp_path: Path) -> None:
    frames = list(media.iter_frames(marked_video))
    for pick in (0, len(frames) // 2):
        grab = tmp_path / f"grab{pick}.jpg"
        Image.fromarray(frames[pick].image).save(grab, quality=70)
        reading = read_watermark(grab)
        assert reading.found and reading.payload == PAYLOAD
        assert reading.frames_read == 1
        assert reading.score >= search.NOMINAL_THRESHOLD + 3  # measured 14-16


def test_small_photo_survives_upscaling(
        faces_dir: Path, tmp_path: Path) -> None:
    photo = media.read_photo(faces_dir / "still_woman_ball_occlusion_lowres.jpg")  # 250 px
    marked = embed_watermark(photo, WatermarkPayload(7))
    path = tmp_path / "small.png"
    Image.fromarray(marked).resize((375, 375), Image.Resampling.BICUBIC).save(path)
    reading = read_watermark(path)
    assert reading.found and reading.payload == WatermarkPayload(7)
    assert reading.scale == (1.0, 1.0)


def test_unmarked_clip_and_photos_are_not_flagged(unmarked_video: Path,
                                                  faces_dir: Path) -> None:
    for path in (unmarked_video, faces_dir / "still_biden_frontal.jpg",
                 faces_dir / "multi_group_of_six_sitcom_cast.jpg"):
        reading = read_watermark(path)
        assert not reading.found and reading.payload is None, path.name
        assert reading.frames_agreeing == 0.0


def test_detector_refuses_mixed_frame_sizes_and_tiny_images() -> None:
    detector = WatermarkDetector()
    detector.add(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(FacedubError, match="frame size changed"):
        detector.add(np.zeros((64, 80, 3), np.uint8))
    with pytest.raises(FacedubError, match="too small"):
        embed_watermark(np.zeros((16, 16, 3), np.uint8), PAYLOAD)
    with pytest.raises(FacedubError, match="no frames"):
        WatermarkDetector().reading()


def test_marks_made_before_the_mask_and_reader_changed_still_read(
        faces_dir: Path, tmp_path: Path) -> None:
    # Outputs of earlier versions (MASK_V1), halved and re-encoded: the hardest edit.
    old = write_video(faces_dir / CLIP, tmp_path / "v1.mp4", unchanged, crf=18,
                      seconds=SECONDS, embedder=WatermarkEmbedder(PAYLOAD, mask=MASK_V1))
    reading = read_watermark(write_video(old, tmp_path / "half.mp4", half_size, crf=28))
    assert reading.found and reading.payload == PAYLOAD
    assert reading.score >= reading.threshold + 2.0  # measured 11


def test_the_mark_costs_a_face_less_than_the_first_version(faces_dir: Path) -> None:
    # d3: a face on a flat wall; the mark's SSIM cost on her face (the middle of the
    # frame) is what the realism benchmark's self-swaps paid for it.
    clip = faces_dir / "clip_liveportrait_d3_woman_headturn.mp4"
    frame = next(media.iter_frames(clip)).image
    face = np.zeros(frame.shape[:2], bool)
    face[150:400, 160:360] = True
    costs = {}
    for name, mask in (("v1", MASK_V1), ("now", MASK)):
        marked = WatermarkEmbedder(PAYLOAD, mask=mask).embed(frame)
        costs[name] = 1.0 - fidelity(frame, marked, face).ssim
        assert psnr(frame, marked) >= 40.0
    assert costs["now"] < 0.6 * costs["v1"]


def test_mask_shape_refuses_a_mark_that_vanishes() -> None:
    with pytest.raises(FacedubError, match="floor"):
        MaskShape(gain=0.5, floor=0.0, ceiling=6.0)
