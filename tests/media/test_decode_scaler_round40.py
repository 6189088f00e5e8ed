"""The decoder's one RGB scaler per video (fortieth round): the same frames as a scaler made
for each frame (the formula it replaced, kept here as the reference), and no scaler made
per frame (swscale started two threads for each)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from facedub import media

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"  # 512 px MPEG-4 Part 2
OBAMA = "clip_deepfacelive_obama_speaking.mp4"  # another size
GIF = "clip_dlib_elon_smoke_hand_mic_occlusion.gif"  # palette frames, not YUV


def _reference_frames(path: Path, count: int) -> list[np.ndarray]:
    """The conversion before the fortieth round: a scaler of PyAV's own for each frame."""
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for decoded in container.decode(stream):
            rgb = decoded.to_ndarray(format="rgb24", interpolation=media._TO_RGB)
            frames.append(media._upright(rgb, media._rotation_of(decoded)))
            if len(frames) == count:
                break
    return frames


@pytest.mark.parametrize("name", [KATIE, OBAMA, GIF])
def test_frames_equal_a_scaler_made_for_each_frame(faces_dir: Path, name: str) -> None:
    expected = _reference_frames(faces_dir / name, 24)
    got = [frame.image for _, frame in zip(range(24), media.iter_frames(faces_dir / name),
                                          strict=False)]
    assert len(got) == len(expected) == 24
    for index, (image, reference) in enumerate(zip(got, expected, strict=True)):
        assert image.dtype == np.uint8 and image.shape == reference.shape, index
        assert np.array_equal(image, reference), f"{name}: frame {index} differs"


def test_chosen_frames_and_the_last_equal_the_reference(faces_dir: Path) -> None:
    """The analysis's path: only some frames made RGB, the last one added."""
    expected = _reference_frames(faces_dir / KATIE, 200)
    wanted = {3, 50, 51, 120}
    got = list(media.iter_frames(faces_dir / KATIE, indices=wanted, last=True))
    assert [frame.index for frame in got] == [3, 50, 51, 120, 199]
    for frame in got:
        assert np.array_equal(frame.image, expected[frame.index]), frame.index


def test_one_scaler_serves_frames_of_two_sizes(faces_dir: Path) -> None:
    """swscale sets itself up again when the frame's size changes (a stream whose size
    changes midway): a reused scaler gives each frame its own size and values."""
    decoded = []
    for name in (KATIE, OBAMA, KATIE):
        with av.open(str(faces_dir / name)) as container:
            frame = next(container.decode(video=0))
            reference = frame.to_ndarray(format="rgb24", interpolation=media._TO_RGB)
            decoded.append((frame, reference))
    scaler = av.video.reformatter.VideoReformatter()
    sizes = set()
    for frame, reference in decoded:
        image = media._frame(frame, 0, 0.0, 25.0, scaler).image
        sizes.add(image.shape)
        assert np.array_equal(image, reference)
    assert len(sizes) == 2


def test_a_video_makes_one_scaler_not_one_a_frame(faces_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    real = av.video.reformatter.VideoReformatter

    def counted() -> object:
        scaler = real()
        made.append(scaler)
        return scaler

    monkeypatch.setattr(media, "VideoReformatter", counted, raising=False)
    monkeypatch.setattr(av.video.frame, "VideoReformatter", counted, raising=False)
    frames = [frame.index for _, frame
              in zip(range(30), media.iter_frames(faces_dir / KATIE), strict=False)]
    assert frames == list(range(30))
    assert len(made) == 1
