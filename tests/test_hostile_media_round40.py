"""Round 40: the media a user hands over, made hostile (cut short, misnamed), in a real
(pseudo-)terminal: one line saying what to do, exit code 2, nothing left at the output."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from facedub import media
from facedub.extract.run import open_source
from test_cli_terminal import run_in_terminal


def _write_clip(path: Path, frames: int = 30, faststart: bool = True) -> None:
    """A small H.264 MP4 of moving gradients; `faststart` puts the index (moov) first, as
    phones and web exports do, so a copy cut short still opens."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "10"}
        ramp = np.linspace(0, 255, 64, dtype=np.float64)
        for index in range(frames):
            noise = np.random.default_rng(index).integers(0, 64, (64, 64, 3))
            image = ((ramp[None, :, None] + ramp[:, None, None] + noise + 7 * index) % 256
                     ).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _cut(path: Path, share: float) -> Path:
    data = path.read_bytes()
    cut = path.with_name(f"cut_{path.name}")
    cut.write_bytes(data[: int(len(data) * share)])
    return cut


def _screen_lines(drawn: str) -> list[str]:
    return [line.strip() for line in drawn.splitlines() if line.strip()]


def test_a_video_cut_mid_file_is_refused_not_taken_as_a_short_clip(tmp_path: Path) -> None:
    # An MP4 whose index comes first and whose end is missing (an interrupted download)
    # decoded its first part without an error: extract, swap, batch and serve went on
    # with it as the whole clip (a swap wrote 11 of 45 frames: '11/11 frames swapped').
    whole = tmp_path / "clip.mp4"
    _write_clip(whole)
    cut = _cut(whole, 0.5)
    before = hashlib.sha256(cut.read_bytes()).hexdigest()
    out = tmp_path / "faces"
    code, drawn = run_in_terminal(["extract", str(cut), "-o", str(out), "--size", "64"])
    assert code == 2, drawn
    lines = _screen_lines(drawn)
    assert lines[-1].startswith(f"error: {cut}: only "), drawn
    assert "of the 30 frames its index lists could be decoded" in lines[-1], drawn
    assert lines[-1].endswith("re-export or re-download it"), drawn
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]], drawn
    assert "Traceback" not in drawn
    assert not out.exists()
    assert hashlib.sha256(cut.read_bytes()).hexdigest() == before


def test_a_whole_video_reads_to_its_end(tmp_path: Path) -> None:
    whole = tmp_path / "clip.mp4"
    _write_clip(whole)
    source = open_source(whole)
    assert source.listed_frames == 30
    assert [frame.index for frame, _ in source.frames()] == list(range(30))


def test_a_cut_video_fails_at_its_end_with_the_counts(tmp_path: Path) -> None:
    whole = tmp_path / "clip.mp4"
    _write_clip(whole)
    source = open_source(_cut(whole, 0.6))
    read = []
    with pytest.raises(media.DecodeError, match=r"only \d+ of the 30 frames its index lists"):
        for frame, _ in source.frames():
            read.append(frame.index)
    assert 0 < len(read) < 30


@pytest.mark.parametrize("case", ["video_named_jpg", "cut_jpeg"])
def test_a_photo_that_is_not_one_says_what_it_is(case: str, tmp_path: Path) -> None:
    # A phone video saved as .jpg was told "not a readable image (cannot identify image
    # file '/the/path'); use a JPEG, PNG or WebP photo", and a JPEG cut short to use a
    # JPEG: neither said what was wrong with the file.
    clip = tmp_path / "clip.mp4"
    _write_clip(clip, faststart=False)
    if case == "video_named_jpg":
        photo = tmp_path / "holiday.jpg"
        photo.write_bytes(clip.read_bytes())
        expected = f"error: {photo}: a video, not a photo, though named .jpg; rename it to " \
                   "end in .mp4"
    else:
        whole = tmp_path / "whole.jpg"
        with av.open(str(clip)) as container:
            next(container.decode(video=0)).to_image().save(whole, quality=95)
        photo = _cut(whole, 0.5)
        expected = f"error: {photo}: the photo is cut short ("
    out = tmp_path / "faces"
    code, drawn = run_in_terminal(["extract", str(photo), "-o", str(out)])
    assert code == 2, drawn
    lines = _screen_lines(drawn)
    assert lines == [lines[-1]] and lines[-1].startswith(expected), drawn
    if case == "cut_jpeg":
        assert lines[-1].endswith("; re-export or re-download it"), drawn
    assert not out.exists()


def test_a_video_named_as_a_photo_target_is_named_before_the_output_kind(
        faces_dir: Path, tmp_path: Path) -> None:
    # `swap --target holiday.jpg -o out.mp4` with a video in holiday.jpg said "the target
    # is a photo, so the output must be a photo too": the user then renamed the output,
    # not the file that was wrong.
    clip = tmp_path / "clip.mp4"
    _write_clip(clip, faststart=False)
    target = tmp_path / "holiday.jpg"
    target.write_bytes(clip.read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    code, drawn = run_in_terminal(["swap", "--source",
                                   str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
                                   "--target", str(target), "-o", str(out / "swapped.mp4")])
    assert code == 2, drawn
    lines = _screen_lines(drawn)
    assert lines == [f"error: {target}: a video, not a photo, though named .jpg; rename it "
                     "to end in .mp4"], drawn
    assert list(out.iterdir()) == []
