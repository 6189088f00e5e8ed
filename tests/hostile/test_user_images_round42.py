"""Photos a user has today (forty-second round), made at test time from a shared photo:
an AVIF and a one-frame GIF are photos (they went to FFmpeg as one-frame videos, and a
photo output name was refused: "cannot write a .jpg video"); an animated WebP target is
refused (its first frame alone was swapped into a still); a HEIC says to convert it (it
went to FFmpeg, which reads an iPhone's tiled HEIC as its top-left tile)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hostile_cases import Inputs, digest, refused, run_cli
from PIL import Image

from facedub import media


def _face(inputs: Inputs) -> Image.Image:
    with Image.open(inputs.photo) as opened:
        return opened.convert("RGB").resize((384, 384))


@pytest.mark.skipif(".avif" not in Image.registered_extensions(),
                    reason="this Pillow reads no AVIF (FFmpeg reads it as a one-frame video)")
def test_an_avif_is_a_photo(inputs: Inputs, tmp_path: Path) -> None:
    avif = tmp_path / "face.avif"
    _face(inputs).save(avif, quality=90)
    info = media.probe(avif)
    assert (info.kind, info.width, info.height) == ("photo", 384, 384)
    image = media.read_photo(avif)
    assert image.dtype == np.uint8 and image.shape == (384, 384, 3)
    assert np.abs(image.astype(int) - np.asarray(_face(inputs), int)).mean() < 4


def test_a_one_frame_gif_is_a_photo_and_an_animated_one_a_video(inputs: Inputs,
                                                                tmp_path: Path) -> None:
    still, moving = tmp_path / "still.gif", tmp_path / "moving.gif"
    face = _face(inputs)
    face.save(still)
    face.save(moving, save_all=True, append_images=[face.rotate(5), face.rotate(10)],
              duration=100)
    assert media.is_photo_path(still) and media.probe(still).kind == "photo"
    assert media.read_photo(still).shape == (384, 384, 3)
    assert not media.is_photo_path(moving)
    info = media.probe(moving)
    assert (info.kind, info.frame_count) == ("video", 3)
    assert not media.is_photo_path(tmp_path / "not-yet-written.gif")  # an output name


def test_a_still_gif_target_swaps_into_a_photo(inputs: Inputs, tmp_path: Path) -> None:
    still = tmp_path / "still.gif"
    _face(inputs).save(still)
    before = digest(still)
    out = tmp_path / "out.jpg"
    outcome = run_cli(["swap", "--source", inputs.photo, "--target", still, "-o", out,
                       "--work-dir", tmp_path / "work"])
    assert outcome.code == 0, outcome.output
    info = media.probe(out)
    assert (info.kind, info.width, info.height) == ("photo", 384, 384)
    assert digest(still) == before


def test_an_animated_webp_target_is_refused_and_its_first_frame_is_a_source(
        inputs: Inputs, tmp_path: Path) -> None:
    webp = tmp_path / "moving.webp"
    face = _face(inputs)
    face.save(webp, save_all=True, append_images=[face.rotate(5), face.rotate(10)],
              duration=100)
    assert media.animated_frames(webp) == 3
    out = tmp_path / "out.png"
    refused(["swap", "--source", inputs.photo, "--target", webp, "-o", out], out, [webp],
            "an animated WebP of 3 frames")
    assert media.is_photo_path(webp) and media.read_photo(webp).shape == (384, 384, 3)


@pytest.mark.skipif(".heic" in Image.registered_extensions(), reason="pillow-heif installed")
@pytest.mark.parametrize("role", ["--source", "--target"])
def test_a_heic_says_to_convert_it(inputs: Inputs, tmp_path: Path, role: str) -> None:
    """Refused by its name where Pillow has no HEIF plugin, so any bytes will do here."""
    heic = tmp_path / "IMG_0001.HEIC"
    shutil.copyfile(inputs.photo, heic)
    other = "--target" if role == "--source" else "--source"
    # as the target, a video output name is refused for the HEIC, not for the name
    names = ["out.jpg"] + (["out.mp4"] if role == "--target" else [])
    for out in (tmp_path / name for name in names):
        refused(["swap", role, heic, other, inputs.photo, "-o", out], out, [heic],
                "a HEIC photo, which facedub cannot read; convert it to JPEG")


def test_an_animated_gif_in_a_photo_folder_is_its_first_frame(inputs: Inputs,
                                                              tmp_path: Path) -> None:
    """It was left out of the folder without a word; an animated WebP there (and as
    `--source`) is its first frame, and so is a GIF now."""
    folder = tmp_path / "photos"
    folder.mkdir()
    face = _face(inputs)
    blank = Image.new("RGB", face.size, (128, 128, 128))
    face.save(folder / "a-still.jpg", quality=92)
    face.rotate(8).save(folder / "b-moving.gif", save_all=True,
                        append_images=[blank, blank], duration=100)
    face.rotate(-8).save(folder / "c-moving.webp", save_all=True,
                         append_images=[blank, blank], duration=100)
    (folder / "notes.txt").write_text("not a photo")
    assert [p.name for p in media.photos_in(folder)] == ["a-still.jpg", "b-moving.gif",
                                                         "c-moving.webp"]
    before = digest(folder)
    out = tmp_path / "faces"
    outcome = run_cli(["extract", folder, "-o", out, "--size", 64])
    assert outcome.code == 0, outcome.output
    sources = [json.loads(line)["source"]
               for line in (out / "faces.jsonl").read_text().splitlines()]
    assert sorted(set(sources)) == ["a-still.jpg", "b-moving.gif", "c-moving.webp"]
    assert digest(folder) == before


@pytest.mark.parametrize("name", ["out.heic", "out.HEIF"])
def test_a_heic_output_name_is_refused_before_the_swap(inputs: Inputs, tmp_path: Path,
                                                       name: str) -> None:
    """It went through the whole swap to a traceback (Pillow writes no HEIC)."""
    out = tmp_path / name
    refused(["swap", "--source", inputs.photo, "--target", inputs.photo, "-o", out,
             "--work-dir", tmp_path / "work"], out, [inputs.photo],
            f"{out}: facedub cannot write {out.suffix} photos; name the output .jpg, .png "
            "or .webp")
