"""The forty-second round's review of the photo checks: several Pillow frames that are no
animation (a phone's MPO JPEG, a multi-page TIFF) are one photo, a damaged GIF or TIFF is
read as before rather than crashing the frame count, a 16-bit grey photo's transparency is
not taken through a conversion that clips it, and a one-frame GIF already at the output
path is no photo output (GIF is never written)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hostile_cases import Inputs, run_cli
from PIL import Image

from facedub import media
from facedub.errors import FacedubError
from facedub.swap import animated_target, check_output_path


def _face(inputs: Inputs) -> Image.Image:
    with Image.open(inputs.photo) as opened:
        return opened.convert("RGB").resize((256, 256))


def test_an_mpo_jpeg_and_a_multi_page_tiff_are_one_photo(inputs: Inputs,
                                                         tmp_path: Path) -> None:
    face = _face(inputs)
    mpo, tiff = tmp_path / "phone.jpg", tmp_path / "scan.tif"
    face.save(mpo, format="MPO", save_all=True, append_images=[face.resize((64, 64))])
    face.save(tiff, save_all=True, append_images=[face.resize((64, 64))])
    for path in (mpo, tiff):
        with Image.open(path) as opened:
            assert opened.n_frames == 2  # Pillow's count: what was read as an animation
        assert media.animated_frames(path) == 1
        assert animated_target(path) == ""
        assert media.read_photo(path).shape == (256, 256, 3)


def test_a_cut_short_gif_or_tiff_is_read_as_before(inputs: Inputs, tmp_path: Path) -> None:
    face = _face(inputs)
    gif, tiff = tmp_path / "moving.gif", tmp_path / "pages.tif"
    face.save(gif, save_all=True, append_images=[face.rotate(5), face.rotate(10)])
    face.save(tiff, save_all=True, append_images=[face.rotate(5), face.rotate(10)])
    for path in (gif, tiff):
        cut = path.with_name("cut" + path.suffix)
        data = path.read_bytes()
        cut.write_bytes(data[: len(data) * 2 // 3])  # an interrupted download
        assert media.animated_frames(cut) in (0, 1)  # no traceback from the count
        media.is_photo_path(cut)


def test_a_sixteen_bit_grey_photo_is_flattened_not_clipped(tmp_path: Path) -> None:
    grey = (np.linspace(0, 38000, 64 * 64).reshape(64, 64)).astype(np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(grey).save(path, transparency=0)
    with Image.open(path) as opened:
        assert "transparency" in opened.info and opened.mode.startswith("I")
    assert media.read_transparency(path) is None
    flattened = media.read_photo(path)
    assert flattened.mean() < 200  # the scaled grey, not the clipped near-white


def test_a_one_frame_gif_at_the_output_path_is_no_photo_output(inputs: Inputs,
                                                               tmp_path: Path) -> None:
    existing = tmp_path / "existing.gif"
    _face(inputs).save(existing)
    assert media.is_photo_path(existing)
    assert not media.writes_photo(existing)
    outcome = run_cli(["swap", "--source", inputs.photo, "--target", inputs.photo,
                       "-o", existing, "--overwrite", "--work-dir", tmp_path / "work"])
    assert outcome.code == 2, outcome.output
    assert "cannot write .gif photos" in outcome.output
    with pytest.raises(FacedubError, match=r"name the output \.jpg, \.png or \.webp"):
        check_output_path(inputs.photo, existing, (inputs.photo,))
