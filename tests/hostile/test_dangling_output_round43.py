"""Round 43: an output path that is a dangling symbolic link was taken for a new name and
replaced by a regular file (the place the link names was never written). It is refused
before any work, as GNU cp refuses to write through one, with the link left as it was."""

from __future__ import annotations

import os
from pathlib import Path

from hostile_cases import Inputs, refused

from test_cli_terminal import run_in_terminal


def _dangling(folder: Path, name: str) -> Path:
    link = folder / name
    link.symlink_to(folder / "gone" / name)
    return link


def test_swap_refuses_a_dangling_link_as_its_output(inputs: Inputs, tmp_path: Path) -> None:
    link = _dangling(tmp_path, "swapped.jpg")
    refused(["swap", "--source", inputs.photo, "--target", inputs.photo, "-o", link,
             "--work-dir", tmp_path / "work"], link, [inputs.photo], "is a link to")
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "gone" / "swapped.jpg")


def test_extract_refuses_a_dangling_link_as_its_faceset(inputs: Inputs, tmp_path: Path) -> None:
    link = _dangling(tmp_path, "faces")
    refused(["extract", inputs.photo, "-o", link], link, [inputs.photo], "which does not exist")
    assert link.is_symlink() and not (tmp_path / "gone").exists()


def test_the_refusal_in_a_terminal_is_one_line(inputs: Inputs, tmp_path: Path) -> None:
    link = _dangling(tmp_path, "swapped.jpg")
    code, drawn = run_in_terminal(["swap", "--source", str(inputs.photo), "--target",
                                   str(inputs.photo), "-o", str(link), "--work-dir",
                                   str(tmp_path / "work")])
    lines = [line for line in drawn.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, drawn
    assert lines[0].startswith("error: -o ") and "remove the link" in lines[0], drawn
    assert link.is_symlink()


def test_swap_refuses_a_link_to_an_existing_file_even_with_overwrite(
        inputs: Inputs, tmp_path: Path) -> None:
    """--overwrite replaced the link by a regular file; the file it named was unchanged
    (and a swap written through would leave its sidecar beside the link)."""
    real = tmp_path / "real" / "swapped.jpg"
    real.parent.mkdir()
    real.write_bytes(inputs.photo.read_bytes())
    link = tmp_path / "swapped.jpg"
    link.symlink_to(real)
    for overwrite in (["--overwrite"], []):
        refused(["swap", "--source", inputs.photo, "--target", inputs.photo, "-o", link,
                 "--work-dir", tmp_path / "work", *overwrite], link, [inputs.photo],
                f"is a link to {real}; to replace that file give its own path (-o {real})")
        assert link.is_symlink() and os.readlink(link) == str(real)
        assert sorted(p.name for p in real.parent.iterdir()) == ["swapped.jpg"]
