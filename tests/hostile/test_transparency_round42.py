"""A photo target with transparency (forty-second round): a cut-out portrait (a sticker, a
product shot) came out white where it was transparent. Where the output holds alpha (PNG,
WebP, TIFF) it keeps the target's alpha unchanged, but for the visible label's box, made
opaque so the label shows on any background; the invisible mark still reads. A JPEG
output is flattened onto white, and the terminal says so; so is a cut-out too small for
its mark to be read in what is opaque. Inputs are made at test time from a shared photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hostile_cases import Inputs, digest, run_cli
from PIL import Image, ImageDraw, ImageFilter

from facedub import media
from facedub.provenance.watermark import WatermarkPayload, read_watermark
from facedub.swap import label_area
from test_cli_terminal import run_in_terminal

JOB = 101


def _cut_out(inputs: Inputs, folder: Path, box: tuple[float, float, float, float],
             name: str = "sticker.png", size: int = 480) -> Path:
    """The shared photo with an oval of it opaque (soft edged) and the rest transparent."""
    with Image.open(inputs.photo) as opened:
        face = opened.convert("RGB").resize((size, size))
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).ellipse(tuple(v * size for v in box), fill=255)
    face.putalpha(mask.filter(ImageFilter.GaussianBlur(3)))
    path = folder / name
    face.save(path)
    return path


def _swap(inputs: Inputs, target: Path, out: Path, *extra: object) -> str:
    outcome = run_cli(["swap", "--source", inputs.photo, "--target", target, "-o", out,
                       "--work-dir", target.parent / "work", "--job-id", JOB, *extra])
    assert outcome.code == 0, outcome.output
    return outcome.output


def _rgba(path: Path) -> np.ndarray:
    with Image.open(path) as opened:
        return np.asarray(opened.convert("RGBA"))


@pytest.mark.parametrize("name", ["out.png", "out.webp", "out.tif"])
def test_a_cut_out_keeps_its_alpha_where_the_output_holds_it(
        inputs: Inputs, tmp_path: Path, name: str) -> None:
    target = _cut_out(inputs, tmp_path, (0.12, 0.04, 0.88, 1.1))
    before = digest(target)
    out = tmp_path / name
    said = _swap(inputs, target, out)
    assert "transparency: kept (the target's alpha unchanged; the visible label's box is " \
           "opaque)" in said
    given, made = _rgba(target), _rgba(out)
    with Image.open(out) as opened:
        assert opened.mode == "RGBA"
    label = label_area((*given.shape[:2], 3))
    assert label.any()
    # the alpha passed through, the label's box opaque
    assert np.array_equal(made[..., 3][~label], given[..., 3][~label])
    assert (made[..., 3][label] == 255).all()
    # the face was swapped where the target is opaque; the transparent pixels keep the
    # target's colours (a lossy WebP moves them a little)
    opaque = given[..., 3] == 255
    assert np.abs(made[..., :3].astype(int) - given[..., :3])[opaque].mean() > 1.0
    if name != "out.webp":
        clear = (given[..., 3] == 0) & ~label
        assert np.array_equal(made[..., :3][clear], given[..., :3][clear])
    reading = read_watermark(out)
    assert reading.found and reading.payload == WatermarkPayload(JOB), reading
    assert digest(target) == before


def test_a_cut_out_shows_over_white_as_its_flattened_swap(inputs: Inputs,
                                                         tmp_path: Path) -> None:
    """Composited over white (how verify and a white page see it), the kept output is
    the flattened (JPEG-bound) swap, to rounding: the swap's changes reach the soft edge
    (but where a colour would leave 0..255: a mark's -3 levels at a quarter opaque is -12
    on a colour under it, and a dark suit's is near 0)."""
    target = _cut_out(inputs, tmp_path, (0.12, 0.04, 0.88, 1.1))
    _swap(inputs, target, tmp_path / "kept.png")
    _swap(inputs, target, tmp_path / "flat.bmp")
    kept, flat = media.read_photo(tmp_path / "kept.png"), media.read_photo(tmp_path / "flat.bmp")
    alpha = _rgba(target)[..., 3]
    seen = alpha > 32  # below, the straight colour's rounding is magnified by 255/alpha
    off = np.abs(kept.astype(int) - flat).max(axis=2)
    assert off[alpha == 255].max() == 0
    assert (off[seen] > 1).mean() < 0.002


def test_a_jpeg_output_of_a_cut_out_is_flattened_and_says_so(inputs: Inputs,
                                                             tmp_path: Path) -> None:
    target = _cut_out(inputs, tmp_path, (0.12, 0.04, 0.88, 1.1))
    out = tmp_path / "out.jpg"
    code, drawn = run_in_terminal(["swap", "--source", str(inputs.photo), "--target",
                                   str(target), "-o", str(out), "--work-dir",
                                   str(tmp_path / "work"), "--job-id", str(JOB)], columns=400)
    assert code == 0, drawn
    lines = [line for line in drawn.splitlines() if line.startswith("transparency:")]
    assert lines == ["transparency: flattened onto white (facedub writes .jpg without "
                     "alpha; an output named .png, .webp or .tif keeps it)"], drawn
    image = media.read_photo(out)
    assert (image[:40, :40] > 245).all()  # the transparent corner, white
    assert read_watermark(out).payload == WatermarkPayload(JOB)


def test_a_cut_out_too_small_for_the_mark_is_flattened_and_says_so(inputs: Inputs,
                                                                   tmp_path: Path) -> None:
    """The face alone opaque, a sixth of the picture: the mark did not read in it (5.1
    against 6.0 at 1200 px), so the output is flattened and the mark found."""
    target = _cut_out(inputs, tmp_path, (0.3, 0.1, 0.7, 0.65), "tight.png", size=1200)
    out = tmp_path / "out.png"
    said = _swap(inputs, target, out)
    assert "transparency: flattened onto white (too little of the photo is opaque for its " \
           "invisible watermark to be read; crop it closer" in said, said
    with Image.open(out) as opened:
        assert opened.mode == "RGB"
    reading = read_watermark(out)
    assert reading.found and reading.payload == WatermarkPayload(JOB), reading


def test_an_opaque_photo_says_nothing_of_transparency(inputs: Inputs, tmp_path: Path) -> None:
    with Image.open(inputs.photo) as opened:
        opened.convert("RGBA").resize((480, 480)).save(tmp_path / "opaque.png")
    out = tmp_path / "out.png"
    said = _swap(inputs, tmp_path / "opaque.png", out)
    assert "transparency" not in said
    with Image.open(out) as opened:
        assert opened.mode == "RGB"
