"""Input cases of the forty-third round, made at test time from a shared photo.

A photo folder with one unreadable file in it (a HEIC, a cut-short download, a stray
non-image) stopped every command that takes folders (extract, swap --source, refine) with
that one file's line: the readable photos are used now, one line says what was skipped
and why, and only a folder with nothing readable is refused."""

from __future__ import annotations

import importlib
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from hostile_cases import Inputs, Outcome, digest, fill, refused, run_cli, small_tmpfs
from PIL import Image, ImageDraw

from facedub.errors import Terminated
from facedub.evaluate.output_path import OutputPath, write_reference
from facedub.faceset import load_faceset
from facedub.swap import label_area
from test_cli_terminal import run_in_terminal

# the module, not the `facedub.swap` function the package exports under its name
swap_module = importlib.import_module("facedub.swap")


def _phone_folder(inputs: Inputs, folder: Path) -> Path:
    """Two readable photos, a HEIC (refused by name where Pillow has no plugin; else its
    JPEG bytes fail as HEIF), a JPEG cut to its first 3 kB, and an empty .png."""
    folder.mkdir()
    with Image.open(inputs.photo) as opened:
        face = opened.convert("RGB").resize((320, 320))
    face.save(folder / "IMG_0001.jpg", quality=92)
    face.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "IMG_0002.png")
    shutil.copyfile(inputs.photo, folder / "IMG_0003.HEIC")
    (folder / "IMG_0004.jpg").write_bytes(inputs.photo.read_bytes()[:3000])
    (folder / "IMG_0005.png").write_bytes(b"")
    return folder


def test_extract_uses_the_readable_photos_and_names_the_skipped_ones(
        inputs: Inputs, tmp_path: Path) -> None:
    """In a terminal, as a user runs it: the job finishes with the two readable photos."""
    folder = _phone_folder(inputs, tmp_path / "phone photos")
    before = digest(folder)
    out = tmp_path / "faces"
    code, drawn = run_in_terminal(["extract", str(folder), "-o", str(out), "--size", "64"])
    assert code == 0, drawn
    assert "Traceback" not in drawn, drawn
    said = [line for line in drawn.splitlines() if "skipping" in line]
    assert len(said) == 1, drawn
    assert "3 of 5 photos" in said[0] and "IMG_0003.HEIC" in said[0], said
    assert "IMG_0004.jpg: cut short" in said[0] and "IMG_0005.png" in said[0], said
    faceset = load_faceset(out)
    assert faceset.meta.frames_analysed == 2
    assert digest(folder) == before


def test_a_source_folder_of_a_swap_skips_what_it_cannot_read(inputs: Inputs,
                                                            tmp_path: Path) -> None:
    folder = _phone_folder(inputs, tmp_path / "photos")
    out = tmp_path / "out.jpg"
    outcome = run_cli(["swap", "--source", folder, "--target", inputs.photo, "-o", out,
                       "--work-dir", tmp_path / "work"])
    assert outcome.code == 0, outcome.output
    assert out.is_file()


@pytest.mark.parametrize("command", ["extract", "refine"])
def test_a_folder_with_nothing_readable_is_refused(inputs: Inputs, tmp_path: Path,
                                                   command: str) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copyfile(inputs.photo, folder / "IMG_0003.HEIC")
    (folder / "IMG_0004.jpg").write_bytes(inputs.photo.read_bytes()[:3000])
    (tmp_path / "out").mkdir()  # the work folder beside it is the caller's, not output
    out = tmp_path / "out" / "model"
    args = (["extract", folder, "-o", out] if command == "extract"
            else ["refine", folder, "-o", out, "--work-dir", tmp_path / "work"])
    refused(args, out, [folder], "none of its 2 photos can be read")


@pytest.mark.parametrize("suffix", [".webp", ".png", ".gif"])
def test_an_animated_source_is_every_frame_whatever_its_format(inputs: Inputs, tmp_path: Path,
                                                               suffix: str) -> None:
    """An animated WebP or PNG was its first frame (FFmpeg reads neither's animation) while
    an animated GIF was every frame (FFmpeg reads it as video)."""
    with Image.open(inputs.photo) as opened:
        face = opened.convert("RGB").resize((256, 256))
    frames = [face.rotate(angle) for angle in (0, 6, 12, 18)]
    animation = tmp_path / f"moving{suffix}"
    frames[0].save(animation, save_all=True, append_images=frames[1:], duration=100, loop=0)
    before = digest(animation)
    out = tmp_path / "faces"
    outcome = run_cli(["extract", animation, "-o", out, "--size", "64"])
    assert outcome.code == 0, outcome.output
    meta = load_faceset(out).meta
    assert (meta.source_kind, meta.frames_analysed) == ("video", 4)
    assert digest(animation) == before


def test_refine_takes_an_animated_webp_as_a_video(tmp_path: Path) -> None:
    """It was refused as 'a single photo shows one view of the face'; now it is analysed
    (two faceless grey frames here: refused for that, in seconds)."""
    grey = [Image.new("RGB", (96, 96), (value, value, value)) for value in (90, 160)]
    animation = tmp_path / "moving.webp"
    grey[0].save(animation, save_all=True, append_images=grey[1:], duration=100)
    outcome = run_cli(["refine", animation, "-o", tmp_path / "refiner", "--steps", "1",
                       "--work-dir", tmp_path / "work"])
    assert outcome.code == 2, outcome.output
    assert "single photo" not in outcome.output and "face" in outcome.output, outcome.output


def test_evals_marked_target_keeps_a_cut_outs_alpha_as_the_swap_does(inputs: Inputs,
                                                                     tmp_path: Path) -> None:
    """`facedub eval`'s reference (the target through the swap's output path) was flattened
    onto white, an RGB file beside the swap's RGBA one."""
    with Image.open(inputs.photo) as opened:
        face = opened.convert("RGB").resize((480, 480))
    alpha = Image.new("L", face.size, 0)
    ImageDraw.Draw(alpha).ellipse((60, 20, 420, 520), fill=255)
    face.putalpha(alpha)
    target = tmp_path / "sticker.png"
    face.save(target)
    written = write_reference(target, tmp_path / "written.png",
                              OutputPath(101, visible_label=True, crf=18, preset="medium"), None)
    with Image.open(written) as opened:
        assert opened.mode == "RGBA"
        made = np.asarray(opened)
    label = label_area((480, 480, 3))
    assert np.array_equal(made[..., 3][~label], np.asarray(alpha)[~label])
    assert (made[..., 3][label] == 255).all()


def test_a_photo_named_with_a_leading_dash_says_how_to_give_it(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It was "No such option: -f", naming neither the file nor the way to give it."""
    photo = tmp_path / "-face é.jpg"
    shutil.copyfile(inputs.photo, photo)
    out = tmp_path / "faces"
    monkeypatch.chdir(tmp_path)  # the name as a user types it, in its folder
    refused(["extract", photo.name, "-o", out], out, [photo],
            "'-face é.jpg' is a file whose name starts with a dash; give it as "
            "./-face é.jpg (or put -- last, just before it)")


def _dashed(inputs: Inputs, folder: Path, name: str) -> Path:
    shutil.copyfile(inputs.photo, folder / name)
    return folder / name


def _said(outcome: Outcome) -> str:
    return " ".join(outcome.output.split())  # the line as said, not as wrapped


def test_swap_says_to_give_a_dashed_file_after_its_option(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """swap takes files only as options' values: './-face.jpg (or put -- before it)'
    followed still failed ('Missing option --target')."""
    _dashed(inputs, tmp_path, "-face.jpg")
    monkeypatch.chdir(tmp_path)
    outcome = run_cli(["swap", "-face.jpg"])
    assert outcome.code == 2, outcome.output
    assert ("'-face.jpg' is a file whose name starts with a dash, and swap takes files "
            "only as options' values; give it as ./-face.jpg after its option (--source "
            "./-face.jpg)") in _said(outcome), outcome.output


def test_a_dashed_file_given_as_an_options_value_gets_no_hint(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--source -face.jpg` is read as meant: a missing -o is said as it is."""
    _dashed(inputs, tmp_path, "-face.jpg")
    monkeypatch.chdir(tmp_path)
    outcome = run_cli(["swap", "--source", "-face.jpg", "--target", "-face.jpg"])
    assert outcome.code == 2, outcome.output
    assert "Missing option '--out'" in outcome.output, outcome.output
    assert "dash" not in outcome.output, outcome.output


@pytest.mark.parametrize("args", [["--", "-face.jpg", "-o", "faces"],  # -o made a file
                                  ["-o.jpg", "-o", "faces"],  # read as -o .jpg
                                  ["-o", "faces", "-o.jpg"]])
def test_extract_says_to_give_a_dashed_file_as_dot_slash_or_after_a_last_dashes(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        args: list[str]) -> None:
    name = next(a for a in args if a.endswith(".jpg"))
    _dashed(inputs, tmp_path, name)
    monkeypatch.chdir(tmp_path)
    outcome = run_cli(["extract", *args])
    assert outcome.code == 2, outcome.output
    assert (f"'{name}' is a file whose name starts with a dash; give it as ./{name} (or "
            "put -- last, just before it)") in _said(outcome), outcome.output
    assert not (tmp_path / "faces").exists()


def test_extract_takes_a_dashed_file_after_a_last_dashes(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hint followed works."""
    _dashed(inputs, tmp_path, "-o.jpg")
    monkeypatch.chdir(tmp_path)
    outcome = run_cli(["extract", "-o", "faces", "--size", "64", "--", "-o.jpg"])
    assert outcome.code == 0, outcome.output
    assert load_faceset(tmp_path / "faces").meta.frames_analysed == 1


def test_a_full_disk_names_the_output_not_its_staged_copy(inputs: Inputs,
                                                          tmp_path: Path) -> None:
    """Target and output on a nearly full tmpfs: the line named the encode's staged copy,
    '..out.PID.X.partial.PID.X.partial.mp4'."""
    with small_tmpfs(tmp_path / "full", "20m") as folder:
        target = folder / "clip.mp4"
        shutil.copyfile(inputs.clip, target)
        fill(folder, 8 * 1024)  # the encode fails (with more, the signing: see the report)
        out = folder / "out.mp4"
        outcome = refused(["swap", "--source", inputs.photo, "--target", target, "-o", out,
                           "--work-dir", tmp_path / "work"], out, [inputs.photo, target],
                          f"{out}: the disk is full")
        assert "partial" not in outcome.output, outcome.output


@pytest.mark.parametrize("name", ["empty.mp4", "empty.jpg"])
def test_a_zero_byte_input_says_it_is_empty(inputs: Inputs, tmp_path: Path, name: str) -> None:
    """It was 'not a readable video or photo (Invalid data found when processing input)'."""
    empty = tmp_path / name
    empty.write_bytes(b"")
    (tmp_path / "out").mkdir()  # the work folder beside it is the caller's, not output
    out = tmp_path / "out" / "out.jpg"
    refused(["swap", "--source", empty, "--target", inputs.photo, "-o", out,
             "--work-dir", tmp_path / "work"], out, [empty],
            f"{empty}: the file is empty (0 bytes")


def test_a_stop_just_after_the_output_is_moved_into_place_leaves_nothing(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM as the last frame was muxed (in a terminal, 1 of 8 tries) left out.mp4
    without its sidecar, and said 'nothing was left half-written'. The signal's exception
    is raised here right after the staged output's move, where it landed."""
    write = swap_module._write

    def stopped_after(*args: object, **kwargs: object) -> int:
        write(*args, **kwargs)  # type: ignore[arg-type]
        raise Terminated(signal.SIGTERM)

    monkeypatch.setattr(swap_module, "_write", stopped_after)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "out.mp4"
    outcome = run_cli(["swap", "--source", inputs.photo, "--target", inputs.clip, "-o", out,
                       "--work-dir", tmp_path / "work"])
    assert outcome.code == 143, outcome.output
    assert "nothing was left half-written" in outcome.output
    assert sorted(p.name for p in out.parent.iterdir()) == []


def test_a_stop_while_the_engine_closes_says_the_output_is_whole(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM after the output and its sidecar were written (the engine closing) said
    'nothing was left half-written, run the same command again', which then refused the
    finished output as existing. The signal's exception is raised from the engine's
    close, where it landed."""
    registry = importlib.import_module("facedub.engines.registry")
    open_engine = registry.open_engine

    def stopping_engine(*args: object, **kwargs: object) -> object:
        engine = open_engine(*args, **kwargs)  # type: ignore[arg-type]
        close = engine.close

        def close_then_stop() -> None:
            close()
            raise Terminated(signal.SIGTERM)

        engine.close = close_then_stop  # type: ignore[method-assign]
        return engine

    monkeypatch.setattr(registry, "open_engine", stopping_engine)
    output = _swap_stopped_after_writing(inputs, tmp_path, 143, "terminated")
    assert "nothing was left half-written" not in output, output
    # The finished swap's report still said (the fifty-second round's split of `swap` lost
    # it: the close's stop dropped the rendering's returned result).
    assert "marked: invisible watermark" in output, output


@pytest.mark.parametrize(("stop", "code", "said"), [
    (Terminated(signal.SIGTERM), 143, "terminated"), (KeyboardInterrupt(), 130, "interrupted")])
def test_a_stop_while_the_swap_says_its_lines_says_the_output_is_whole(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        stop: BaseException, code: int, said: str) -> None:
    """A stop while the finished swap said its lines (outside the command's signal block:
    the console command's own handler) said 'nothing was left half-written, run the same
    command again' too (Ctrl-C: 'run the same command again to resume')."""
    files = importlib.import_module("facedub.cli.files")
    report = files._report_swap

    def report_then_stop(*args: object) -> None:
        report(*args)
        raise stop

    monkeypatch.setattr(files, "_report_swap", report_then_stop)
    output = _swap_stopped_after_writing(inputs, tmp_path, code, said)
    assert "run the same command again" not in output, output


def _swap_stopped_after_writing(inputs: Inputs, tmp_path: Path, code: int, said: str) -> str:
    """A photo swap whose stop comes after its output and sidecar were written: the exit
    code, the line saying the output is whole, and just those two files; its output."""
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "out.jpg"
    outcome = run_cli(["swap", "--source", inputs.photo, "--target", inputs.photo, "-o", out,
                       "--work-dir", tmp_path / "work"])
    assert outcome.code == code, outcome.output
    assert f"{said} after out.jpg was written whole" in outcome.output, outcome.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.jpg",
                                                            "out.jpg.provenance.json"]
    return outcome.output


def test_a_bad_value_is_said_as_it_is_beside_a_dashed_file(
        inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review's find: the dash hint replaced every usage error, so `--size abc` was
    hidden behind advice the user had already followed (`--` last)."""
    _dashed(inputs, tmp_path, "-face.jpg")
    monkeypatch.chdir(tmp_path)
    outcome = run_cli(["extract", "--size", "abc", "-o", "faces", "--", "-face.jpg"])
    assert outcome.code == 2, outcome.output
    assert "Invalid value for '--size'" in outcome.output, outcome.output
    assert "dash" not in outcome.output, outcome.output
