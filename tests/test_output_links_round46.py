"""Round 46: an output below a link that points nowhere (`-o shots/out.mp4`, `shots` a
link to a moved folder or an unmounted disk) was "the folder shots does not exist; create
it", and `mkdir shots` then fails ("File exists"). It now names the link and where it
points, and says what to do; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.errors import FacedubError
from facedub.fsutil import check_writable_output


@pytest.mark.parametrize(("output", "folder"), [
    ("shots/out.mp4", False), ("shots/deeper/out.mp4", False), ("shots/faces", True),
    ("shots/work", "parents")])
def test_an_output_below_a_dangling_link_names_the_link(tmp_path: Path, output: str,
                                                        folder: bool | str) -> None:
    (tmp_path / "shots").symlink_to("moved/away")  # relative: read from tmp_path
    with pytest.raises(FacedubError) as raised:
        check_writable_output(tmp_path / output, "-o", folder=bool(folder),
                              parents=folder == "parents")
    message = str(raised.value)
    # main: "the folder .../shots does not exist; create it" (and mkdir says it exists)
    assert f"{tmp_path / 'shots'} is a link to {tmp_path / 'moved' / 'away'}, which does " \
           "not exist" in message
    assert "create (or mount) that folder" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shots"]


def test_an_output_below_a_working_link_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "shots").symlink_to("real")
    check_writable_output(tmp_path / "shots" / "out.mp4", "-o")


def test_swap_says_so_in_one_line(faces_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "shots").symlink_to(tmp_path / "unmounted")
    result = CliRunner().invoke(app, [
        "swap", "--source", str(faces_dir / "still_biden_frontal.jpg"), "--target",
        str(faces_dir / "still_rose_leslie_frontal.jpg"), "-o",
        str(tmp_path / "shots" / "out.jpg")])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: -o {tmp_path}/shots/out.jpg: {tmp_path}/shots is a link to "
        f"{tmp_path}/unmounted, which does not exist; create (or mount) that folder, or "
        "choose an output outside the link"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shots"]


@pytest.mark.parametrize("output", ["loop/out.mp4", "loop/deeper/out.mp4"])
def test_an_output_below_a_link_loop_is_one_line(tmp_path: Path, output: str) -> None:
    """Review R: `ln -s loop loop; -o loop/out.mp4` was a traceback (RuntimeError: Symlink
    loop, from resolving the link to name where it points)."""
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(FacedubError) as raised:
        check_writable_output(tmp_path / output, "-o")
    assert f"{tmp_path / 'loop'} is a link to loop, which loops back on itself" in str(
        raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop"]


def test_swap_below_a_link_loop_says_so_in_one_line(faces_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    result = CliRunner().invoke(app, [
        "swap", "--source", str(faces_dir / "still_biden_frontal.jpg"), "--target",
        str(faces_dir / "still_rose_leslie_frontal.jpg"), "-o",
        str(tmp_path / "loop" / "out.jpg")])
    assert result.exit_code == 2, result.output  # was 1, a RuntimeError's traceback
    assert result.output.strip().splitlines() == [
        f"error: -o {tmp_path}/loop/out.jpg: {tmp_path}/loop is a link to loop, which loops "
        "back on itself; fix or remove the link, or choose an output outside it"]


@pytest.mark.parametrize("folder", [False, True])
def test_an_output_that_is_itself_a_link_loop_says_it_loops(tmp_path: Path,
                                                            folder: bool) -> None:
    """Review R3: `ln -s loop loop; -o loop` said "is a link to loop, which does not
    exist"; it exists, and loops."""
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(FacedubError) as raised:
        check_writable_output(tmp_path / "loop", "-o", folder=folder)
    assert str(raised.value) == (
        f"-o {tmp_path / 'loop'}: it is a link to loop, which loops back on itself; fix or "
        "remove the link, or choose another name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop"]


@pytest.mark.parametrize("output", ["deep/out.mp4", "deep"])
def test_a_link_through_a_loop_names_the_link_that_loops(tmp_path: Path,
                                                         output: str) -> None:
    """Review R3: with `deep -> loop/x` and `loop -> loop`, `-o deep/out.mp4` said deep
    "loops back on itself"; deep does not, the link it passes through does."""
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "deep").symlink_to("loop/x")
    with pytest.raises(FacedubError) as raised:
        check_writable_output(tmp_path / output, "-o")
    message = str(raised.value)
    assert f"is a link to loop/x, which passes through {tmp_path / 'loop'}, a link that " \
           f"loops back on itself; fix or remove {tmp_path / 'loop'}" in message
    assert "deep is a link to loop/x, which loops" not in message


def test_a_loop_of_two_links_is_named(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(FacedubError) as raised:
        check_writable_output(tmp_path / "a" / "out.mp4", "-o")
    assert f"{tmp_path / 'a'} is a link to b, which loops back on itself" in str(
        raised.value)


def test_a_relative_output_through_a_loop_names_it_relatively(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "deep").symlink_to("loop/x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FacedubError) as raised:
        check_writable_output(Path("deep/out.mp4"), "-o")
    assert str(raised.value) == (
        "-o deep/out.mp4: deep is a link to loop/x, which passes through loop, a link that "
        "loops back on itself; fix or remove loop, or choose an output outside it")


def test_swap_to_an_output_that_is_a_link_loop_says_so_in_one_line(
        faces_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "loop.jpg").symlink_to("loop.jpg")
    result = CliRunner().invoke(app, [
        "swap", "--source", str(faces_dir / "still_biden_frontal.jpg"), "--target",
        str(faces_dir / "still_rose_leslie_frontal.jpg"), "-o", str(tmp_path / "loop.jpg")])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: -o {tmp_path}/loop.jpg: it is a link to loop.jpg, which loops back on "
        "itself; fix or remove the link, or choose another name"]
