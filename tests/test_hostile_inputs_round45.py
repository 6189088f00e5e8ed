"""Round 45: hostile inputs, tried as a new user would, in a real (pseudo-)terminal: one
line saying what to do, exit code 2, nothing left at the output, inputs untouched."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import av
import pytest
from PIL import Image

from facedub import media
from test_cli_terminal import run_in_terminal


def _screen_lines(drawn: str) -> list[str]:
    return [line.strip() for line in drawn.splitlines() if line.strip()]


@pytest.mark.parametrize(("kind", "named", "told"), [
    ("PNG", "holiday.mp4", "a PNG photo, not a video, though named .mp4; rename it to end in "
                           ".png"),
    ("JPEG", "holiday.mov", "a JPEG photo, not a video, though named .mov; rename it to end in "
                            ".jpg"),
    ("PNG", "holiday", "a PNG photo, not a video, though named without an extension; rename it "
                       "to end in .png"),
])
def test_a_photo_named_as_a_video_is_refused_with_its_name(
        faces_dir: Path, tmp_path: Path, kind: str, named: str, told: str) -> None:
    # A PNG renamed .mp4 went to FFmpeg, which reads it as a video of one frame: the swap
    # wrote a 0.04 s .mp4 of the swapped photo, and extract a faceset of it, without a word.
    photo = tmp_path / named
    with Image.open(faces_dir / "still_biden_frontal.jpg") as image:
        image.save(photo, format=kind)
    before = hashlib.sha256(photo.read_bytes()).hexdigest()
    with pytest.raises(media.DecodeError, match="rename it"):
        media.probe(photo)
    out = tmp_path / "out"
    out.mkdir()
    code, drawn = run_in_terminal(["swap", "--source",
                                   str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
                                   "--target", str(photo), "-o", str(out / "swapped.mp4")])
    assert code == 2, drawn
    assert _screen_lines(drawn) == [f"error: {photo}: {told}"], drawn
    assert list(out.iterdir()) == []
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == before


_STREAM_FRAMES = 12


@pytest.fixture(scope="module")
def webcam_mjpeg(faces_dir: Path) -> bytes:
    """A raw MJPEG stream as a webcam dumps it: JFIF frames one after another, here the
    first frames of a shared clip at half size. FFmpeg reads it with jpeg_pipe, its reader
    of a JPEG photo (PyAV's own mjpeg encoder writes frames its mjpeg demuxer reads)."""
    frames = []
    with av.open(str(faces_dir / "clip_liveportrait_d3_woman_headturn.mp4")) as clip:
        for index, frame in enumerate(clip.decode(video=0)):
            if index == _STREAM_FRAMES:
                break
            encoded = io.BytesIO()
            frame.to_image().resize((frame.width // 2, frame.height // 2)).save(
                encoded, format="JPEG", quality=85)
            frames.append(encoded.getvalue())
    return b"".join(frames)


@pytest.mark.parametrize("named", ["cam.mjpeg", "cam.mp4", "cam"])
def test_a_raw_mjpeg_stream_is_swapped_as_a_video(
        faces_dir: Path, tmp_path: Path, webcam_mjpeg: bytes, named: str) -> None:
    # Round 45's refusal of a photo named as a video refused any file FFmpeg opens with a
    # still-image reader, so a webcam's MJPEG dump was "a JPEG photo ... rename it to end in
    # .jpg" (and renamed, a photo of its first frame): only a single picture is refused.
    stream = tmp_path / named
    stream.write_bytes(webcam_mjpeg)
    with av.open(str(stream)) as container:
        assert container.format.name == "jpeg_pipe"  # the reader of a JPEG photo
    info = media.probe(stream)
    assert (info.kind, info.frame_count) == ("video", _STREAM_FRAMES)
    assert [frame.index for frame in media.iter_frames(stream)] == list(range(_STREAM_FRAMES))
    out = tmp_path / "out"
    out.mkdir()
    code, drawn = run_in_terminal(["swap", "--source",
                                   str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
                                   "--target", str(stream), "-o", str(out / "swapped.mp4")])
    assert code == 0, drawn
    assert f"{_STREAM_FRAMES}/{_STREAM_FRAMES} frames swapped" in drawn, drawn
    assert media.probe(out / "swapped.mp4").frame_count == _STREAM_FRAMES
    assert stream.read_bytes() == webcam_mjpeg


def _jpeg(image: Image.Image, scale: int = 1) -> bytes:
    encoded = io.BytesIO()
    image.resize((image.width // scale, image.height // scale)).save(encoded, format="JPEG")
    return encoded.getvalue()


@pytest.mark.parametrize("named", ["phone_photo", "phone_photo.mp4"])
def test_a_phone_photo_with_a_picture_after_its_end_is_still_a_photo(
        faces_dir: Path, tmp_path: Path, named: str) -> None:
    """A phone's JPEG with a smaller second picture after its end (an Ultra HDR gain map,
    an MPO's other images) read as two pictures: counted as a video, it was swapped as a
    two-frame clip whose second frame was the gain map (review, forty-fifth round)."""
    with Image.open(faces_dir / "still_rose_leslie_frontal.jpg") as image:
        rgb = image.convert("RGB")
        photo = tmp_path / named
        photo.write_bytes(_jpeg(rgb) + _jpeg(rgb, scale=4))
    with pytest.raises(media.DecodeError, match="a JPEG photo, not a video"):
        media.probe(photo)
