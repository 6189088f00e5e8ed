"""The output says which YUV matrix its frames were converted with (forty-second round).
Untagged, a player picks the matrix by size, BT.709 for HD, while the writer converts
with BT.601: an HD output's every pixel was shown off by that mismatch."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from facedub import media


def _as_a_player_shows(path: Path) -> np.ndarray:
    """The first frame as a player decodes it: by the stream's tags, else BT.709 for HD
    (720 rows or more) and BT.601 below, limited range."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        space = frame.colorspace if frame.colorspace != 2 else (1 if frame.height >= 720 else 5)
        return frame.reformat(format="rgb24", src_colorspace=space,
                              src_color_range=frame.color_range or 1).to_ndarray()


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm"])
def test_an_hd_output_is_shown_with_the_colours_written(tmp_path: Path, suffix: str) -> None:
    width, height = 1280, 720
    picture = np.zeros((height, width, 3), np.uint8)
    for n, colour in enumerate([(200, 40, 40), (40, 180, 60), (50, 60, 200), (220, 200, 60),
                                (180, 120, 100), (90, 200, 210), (128, 128, 128)]):
        picture[:, n * width // 7:(n + 1) * width // 7] = colour
    out = tmp_path / f"hd{suffix}"
    with media.VideoWriter(out, width, height, Fraction(25), crf=0, preset="ultrafast") as writer:
        for index in range(2):
            writer.write(picture, index / 25)
    shown = _as_a_player_shows(out).astype(int)
    # away from the colour edges, where 4:2:0 chroma blends neighbours
    inner = np.concatenate([np.arange(n * width // 7 + 16, (n + 1) * width // 7 - 16)
                            for n in range(7)])
    error = np.abs(shown[:, inner] - picture[:, inner].astype(int))
    assert error.max() <= 3, error.max()
    # and facedub reads its own output back as before (the tag names swscale's default)
    again = next(iter(media.iter_frames(out))).image.astype(int)
    assert np.abs(again[:, inner] - picture[:, inner].astype(int)).max() <= 3


def _hdr_clip(path: Path, frames: list[np.ndarray]) -> Path:
    """10-bit HEVC tagged as an HDR phone clip: BT.2020 primaries and matrix, HLG."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx265", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p10le"
        stream.options = {"x265-params": "log-level=error:colorprim=bt2020:"
                                         "transfer=arib-std-b67:colormatrix=bt2020nc"}
        context = stream.codec_context
        context.colorspace, context.color_primaries, context.color_trc = 9, 9, 18
        context.color_range = 1
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(
                format="yuv420p10le", dst_colorspace=9, dst_color_range=1)
            frame.colorspace, frame.color_range, frame.pts = 9, 1, index
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _tags(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return int(frame.color_primaries), int(frame.color_trc)


def test_an_hdr_targets_swap_keeps_its_primaries_and_transfer(faces_dir: Path,
                                                             tmp_path: Path) -> None:
    """Untagged, an HLG clip's output showed its HLG values as SDR in every player."""
    from typer.testing import CliRunner

    from facedub.cli import app

    frames = [frame.image for _, frame in zip(range(3), media.iter_frames(
        faces_dir / "clip_sadtalker_hdtf_katiehill_headturn.mp4"), strict=False)]
    target = _hdr_clip(tmp_path / "phone.mov", frames)
    assert media.probe(target).colour == media.Colour(9, 18)
    out = tmp_path / "out.mp4"
    result = CliRunner().invoke(app, ["swap", "--source",
                                      str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
                                      "--target", str(target), "-o", str(out), "--work-dir",
                                      str(tmp_path / "work")])
    assert result.exit_code == 0, result.output
    assert _tags(out) == (9, 18)
    assert media.probe(out).frame_count == 3
