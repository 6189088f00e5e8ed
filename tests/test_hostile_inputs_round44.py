"""Round 44: an output path below a file (`-o photo.jpg/out.mp4`).

`facedub export -o photo.jpg/model.onnx` said "the folder photo.jpg does not exist;
create it", which the file's name already takes; an output folder below a file said
"cannot write into it (not a directory)"."""

from __future__ import annotations

from pathlib import Path

import pytest

from facedub.errors import FacedubError
from facedub.fsutil import check_writable_output


@pytest.mark.parametrize("folder", [False, True])
@pytest.mark.parametrize("below", ["photo.jpg", "photo.jpg/deeper"])
def test_an_output_below_a_file_says_the_file_is_not_a_folder(
        tmp_path: Path, folder: bool, below: str) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\\xff\\xd8")
    out = tmp_path / below / ("faces" if folder else "out.mp4")
    with pytest.raises(FacedubError) as refused:
        check_writable_output(out, "-o", folder=folder)
    assert str(refused.value) == (f"-o {out}: {tmp_path / 'photo.jpg'} is a file, not a "
                                  "folder; choose an output in a folder")


def test_a_folder_with_one_readable_photo_says_the_other_one_is_used(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A folder of a decompression bomb and one photo said "the other 1 are used"."""
    from PIL import Image

    from facedub.extract.folder import folder_photos

    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"not a photo")
    photos = (folder / "a.jpg", folder / "b.jpg")
    assert folder_photos(folder, photos).usable == (folder / "a.jpg",)
    assert caplog.messages[-1].endswith("; the other one is used")
