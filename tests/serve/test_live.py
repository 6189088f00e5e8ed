"""The live swapper: per-frame landmarks, the mesh engine, and every frame marked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.mesh import MeshEngine
from facedub.faces.landmarks import resolve_landmarker_model
from facedub.faceset import Faceset
from facedub.provenance import read_watermark
from facedub.serve.live import LiveConfig, LiveSwapper

CAMERA = "clip_liveportrait_d9_man_glasses_webcam.mp4"


@pytest.fixture(scope="module")
def camera(faces_dir: Path) -> list[np.ndarray]:
    frames = []
    for frame in media.iter_frames(faces_dir / CAMERA):
        frames.append(cv2.resize(frame.image, (640, 480), interpolation=cv2.INTER_AREA))
        if len(frames) == 12:
            break
    return frames


def test_every_frame_is_swapped_marked_and_labelled(
        camera: list[np.ndarray], extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    source = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=512)
    config = LiveConfig(resolve_landmarker_model())
    assert config.visible_label  # on unless asked otherwise
    with LiveSwapper(MeshEngine(source), config) as live:
        done = [live.swap(frame, index / 25) for index, frame in enumerate(camera)]
        job_id = live.job_id
    assert all(d.swapped and d.image.shape == (480, 640, 3) for d in done)
    # The face is replaced. It takes the frame's own skin tone (composite/tone.py), so
    # what differs is mostly its features and detail: 10 grey levels (at 12, 0.31 of the
    # box changed before the tone was levelled where the face shows, 0.28 after; at 10,
    # 0.37 and 0.34).
    changed = np.abs(done[-1].image.astype(int) - camera[-1].astype(int)).mean(axis=2) > 10
    assert changed[150:350, 220:420].mean() > 0.3
    # The watermark survives the JPEG the live socket sends, and names this stream.
    photo = tmp_path / "frame.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(done[-1].image, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 80])
    mark = read_watermark(photo)
    assert mark.found and mark.payload is not None and mark.payload.job_id == job_id
    # Without the label only the label's corner differs.
    unlabelled = LiveConfig(resolve_landmarker_model(), visible_label=False)
    with LiveSwapper(MeshEngine(source), unlabelled) as live:
        plain = [live.swap(frame, index / 25) for index, frame in enumerate(camera)][-1]
    corner = np.abs(plain.image.astype(int) - done[-1].image.astype(int))[430:, 480:].mean()
    assert corner > 10


def test_pipelined_frames_come_back_in_order_and_faceless_frames_pass_marked(
        camera: list[np.ndarray], extracted: Callable[..., Faceset]) -> None:
    source = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=512)
    blank = np.full((480, 640, 3), 90, np.uint8)
    frames = [*camera[:4], blank, *camera[4:8]]
    with LiveSwapper(MeshEngine(source), LiveConfig(resolve_landmarker_model())) as live:
        futures = [live.submit(frame, index / 25) for index, frame in enumerate(frames)]
        done = [future.result(timeout=60) for future in futures]
    assert [d.swapped for d in done] == [True] * 4 + [False] + [True] * 4
    assert not np.array_equal(done[4].image, blank)  # marked and labelled all the same
