"""Round 38: hostile input as a newcomer meets it, in a real (pseudo-)terminal, where
the progress bar is drawn: the one-line error must be the last thing on the screen."""

from __future__ import annotations

import importlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console
from typer.testing import CliRunner

from facedub.cli import app, terminal
from test_cli_terminal import ANSI_ESCAPE, run_in_terminal


def _screen_lines(drawn: str) -> list[str]:
    return [line.strip() for line in drawn.splitlines() if line.strip()]


def test_extract_of_a_folder_with_an_unreadable_photo_ends_on_its_error(
        faces_dir: Path, tmp_path: Path) -> None:
    # The explicit-content check reads every photo of the folder and fails on the empty
    # one; its error came out of the writer's close, which skipped stopping the bar, so
    # the bar was drawn again below the error line (0/3 frames, as if still working).
    # (Since round 43 the unreadable photo is skipped with a warning; the error that ends
    # the work after the bar started is the faceless photo's.)
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (320, 240), (90, 120, 150)).save(photos / "a.jpg")
    (photos / "z.jpg").write_bytes(b"")
    out = tmp_path / "faces"
    code, drawn = run_in_terminal(["extract", str(photos), "-o", str(out), "--size", "64"])
    assert code == 2, drawn
    lines = _screen_lines(drawn)
    assert lines[-1].startswith("error:") and "no face" in lines[-1], drawn
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]], drawn
    assert "Traceback" not in drawn
    assert not out.exists()


@pytest.mark.parametrize("faceless", ["source", "target"])
def test_a_swap_names_the_input_that_shows_no_face(faceless: str, faces_dir: Path,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A swap analyses two inputs; "no face found in any of the 1 analysed frames" did
    # not say whether the source or the target had none.
    monkeypatch.setenv("FACEDUB_CONFIG_DIR", str(tmp_path / "config"))
    wall = tmp_path / "wall.jpg"
    Image.new("RGB", (320, 240), (90, 120, 150)).save(wall)
    inputs = {"source": faces_dir / "still_paul_rudd_frontal_studio.jpg",
              "target": faces_dir / "still_biden_frontal.jpg", faceless: wall}
    out = tmp_path / "swapped.jpg"
    result = CliRunner().invoke(app, [
        "swap", "--source", str(inputs["source"]), "--target", str(inputs["target"]),
        "-o", str(out), "--work-dir", str(tmp_path / "work")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {wall}: no face found"), result.output
    assert not out.exists()


@pytest.mark.parametrize("columns", [80, 120])
def test_a_long_status_leaves_the_bar_its_count_and_time_left(
        columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # `train` and `refine` put their losses in the status column; every column being
    # unwrappable, rich shrank them all alike and an 80- or 120-column terminal showed
    # "t…   -   … step 3  seconds 2.9  loss ...": no count, no bar, no time left.
    screen = io.StringIO()
    monkeypatch.setattr(terminal, "console", Console(
        file=screen, width=columns, force_terminal=True, color_system="standard"))
    progress = terminal.RichProgress(unit="steps")
    progress.start(20000, "train df")
    progress.advance(3)
    progress.status("step 3  seconds 2.9  loss 1.47016  loss_a 0.38272  loss_b 0.61899  "
                    "loss_mask 0.46851  lr 0.0001")
    progress.finish()
    final = ANSI_ESCAPE.sub("", screen.getvalue()).split("\r")[-1].strip()
    assert final.startswith("train df ━"), final
    assert "3/20000" in final and "steps/s" in final and "left step 3" in final, final
    assert final.endswith("…") and len(final) <= columns, final


def test_verify_of_a_folder_or_a_fifo_says_what_it_is(tmp_path: Path) -> None:
    # Both exist; the manifest's reader said "no such file; check the path".
    fifo = tmp_path / "stream.mp4"
    os.mkfifo(fifo)
    for path, said in ((tmp_path, "a folder"), (fifo, "not a regular file")):
        result = CliRunner().invoke(app, ["verify", str(path)])
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert lines == [f"error: {path}: {said}; give a video or photo file"], result.output


def test_verify_names_its_own_option(faces_dir: Path) -> None:
    result = CliRunner().invoke(app, ["verify", str(faces_dir / "still_biden_frontal.jpg"),
                                      "--max-frames", "0"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == "error: --max-frames 0: read at least 1 frame"


def test_a_photo_over_pils_warning_size_prints_no_warning(tmp_path: Path) -> None:
    # 90 megapixels: over PIL's DecompressionBombWarning (89 MP), under its refusal; it
    # printed PIL's warning and source line before the command's one line.
    photo = tmp_path / "panorama.png"
    Image.new("L", (9500, 9500), 0).save(photo)
    code, drawn = run_in_terminal(["extract", str(photo), "-o", str(tmp_path / "faces"),
                                   "--size", "64"])
    assert code == 2, drawn
    assert "Warning" not in drawn and "warnings.warn" not in drawn, drawn
    lines = [line for line in _screen_lines(drawn) if "━" not in line]
    assert lines == [f"error: {photo}: no face found in any of the 1 analysed frames; use "
                     "media where a face is visible"], drawn


def _without_root_overrides() -> list[str]:
    """A prefix under which mode bits bind this process, root or not (root reads a mode-000
    file through CAP_DAC_OVERRIDE)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: mode bits would not bind")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize("command", [
    ["verify", "{locked}"],
    ["extract", "{locked}", "-o", "{out}"],
    ["swap", "--source", "{locked}", "--target", "{photo}", "-o", "{out}.jpg"],
])
def test_an_unreadable_input_is_one_line(command: list[str], faces_dir: Path,
                                         tmp_path: Path) -> None:
    # click's own readability check answered first, with three lines (usage, a hint and
    # "Error: Invalid value for 'media': path ... is not readable.").
    locked = tmp_path / "locked.jpg"
    shutil.copy(faces_dir / "still_biden_frontal.jpg", locked)
    locked.chmod(0)
    args = [part.format(locked=locked, out=tmp_path / "out",
                        photo=faces_dir / "still_paul_rudd_frontal_studio.jpg")
            for part in command]
    done = subprocess.run([*_without_root_overrides(), sys.executable, "-m", "facedub",
                           *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "FACEDUB_WORK_DIR": str(tmp_path / "work"),
                               "FACEDUB_CONFIG_DIR": str(tmp_path / "config")})
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith(f"error: {locked}: "), lines
    assert "ermission denied" in lines[0], lines
    assert not list(tmp_path.glob("out*"))


def test_eval_of_a_photo_against_a_video_target_is_refused_before_any_work(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A photo with a provenance sidecar (facedub's own output) failed after the analyses,
    # naming the evaluation's temporary file: "/tmp/facedub-eval-.../written.jpg: cannot
    # write a .jpg video".
    # evaluate() itself checks first: no analysis may start.
    evaluate_run = importlib.import_module("facedub.evaluate.run")
    monkeypatch.setattr(evaluate_run, "source_identity", _no_work)
    monkeypatch.setattr(evaluate_run, "analyse_target", _no_work)
    photo = tmp_path / "swapped.jpg"
    shutil.copy(faces_dir / "still_biden_frontal.jpg", photo)
    (tmp_path / "swapped.jpg.provenance.json").write_text("{}")
    target = faces_dir / "clip_liveportrait_d18_man_frontal_mouth.mp4"
    result = CliRunner().invoke(app, [
        "eval", "--source", str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
        "--target", str(target), "--swapped", str(photo), "-o", str(tmp_path / "report")])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (f"error: --swapped {photo}: is a photo but the target "
                                     "is a video; give the swap output of this target")
    assert not (tmp_path / "report").exists()


def _no_work(*args: object, **kwargs: object) -> None:
    raise AssertionError("the evaluation started")


def test_refine_stopped_with_sigterm_in_its_analysis_says_so(faces_dir: Path,
                                                             tmp_path: Path) -> None:
    # The source's analysis and the mesh renderings run before training's own handlers:
    # SIGTERM there killed the process outright, with no line (exit -15).
    work = tmp_path / "work"
    process = subprocess.Popen(
        [sys.executable, "-m", "facedub", "refine",
         str(faces_dir / "clip_liveportrait_d10_woman_expressions.mp4"),
         "-o", str(tmp_path / "refiner"), "--steps", "2", "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "FACEDUB_WORK_DIR": str(work),
             "FACEDUB_CONFIG_DIR": str(tmp_path / "config")})
    try:
        deadline = time.monotonic() + 300
        while not list(work.glob("*/progress.jsonl")) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert process.returncode == 143, (process.returncode, lines)
    # Exactly this line of facedub's; MediaPipe's native start-up notes can leak beside it
    # when the signal lands while a landmarker is being made (reported, not fixed here).
    assert "Traceback" not in stderr, lines
    assert lines.count("terminated; nothing was left half-written, run the same command "
                       "again") == 1, lines


def test_paths_of_the_wrong_kind_are_named_as_such(faces_dir: Path, tmp_path: Path) -> None:
    photo = faces_dir / "still_biden_frontal.jpg"
    rudd = faces_dir / "still_paul_rudd_frontal_studio.jpg"
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(f'[[job]]\nsource = "{rudd}"\ntarget = "{photo}"\noutput = "a.jpg"\n')
    a_file = tmp_path / "notes.txt"
    a_file.write_text("kept\n")
    cases = [
        # a folder as the jobs file: "no such jobs file; check the path"
        (["batch", str(tmp_path), "-o", str(tmp_path / "out")],
         f"error: {tmp_path}: is a folder; give the jobs file (TOML) in it"),
        # a file as OUTDIR: "notes.txt: File exists; nothing was written, run the same
        # command again once that is fixed"
        (["batch", str(jobs), "-o", str(a_file)],
         f"error: -o {a_file}: exists and is not a folder; give a folder"),
        # a folder as swap's -o: "the target is a photo, so the output must be a photo too"
        (["swap", "--source", str(rudd), "--target", str(photo), "-o", str(tmp_path)],
         f"error: -o {tmp_path}: is a folder; give a file name"),
    ]
    for args, said in cases:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.output.strip() == said
    assert a_file.read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.toml", "notes.txt"]


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_extract_stopped_by_a_signal_says_so_and_resumes(stop: signal.Signals, code: int,
                                                         faces_dir: Path,
                                                         tmp_path: Path) -> None:
    # Killed outright (-15, -1) with no line; Ctrl-C already said so with 130.
    clip = faces_dir / "clip_liveportrait_d10_woman_expressions.mp4"
    out = tmp_path / "faces"
    command = [sys.executable, "-m", "facedub", "extract", str(clip), "-o", str(out),
               "--size", "64", "--max-frames", "200"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 300
        log = out / "progress.jsonl"
        while time.monotonic() < deadline and not (log.is_file() and log.read_text()):
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        process.send_signal(stop)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert process.returncode == code, (process.returncode, lines)
    assert "Traceback" not in stderr, lines
    assert lines.count("terminated; nothing was left half-written, run the same command "
                       "again") == 1, lines
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "from an earlier run" in done.stderr, done.stderr


# Stands in for the facesets' loading: SIGTERM lands before the training loop's handlers.
_SIGNALLED_TRAIN = """
import os, signal, sys, time
import facedub.faceset

def _signalled(path):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
    raise AssertionError("SIGTERM did not stop the command")

facedub.faceset.load_faceset = _signalled
from facedub.__main__ import main
sys.argv = ["facedub", "train", sys.argv[1], sys.argv[2], "-o", sys.argv[3]]
main()
"""


def test_train_stopped_with_sigterm_before_its_loop_says_so(tmp_path: Path) -> None:
    # Loading the facesets and building the model come before the loop's own handlers:
    # SIGTERM there killed the process outright, with no line (exit -15).
    source, target = tmp_path / "a", tmp_path / "b"
    source.mkdir()
    target.mkdir()
    done = subprocess.run([sys.executable, "-c", _SIGNALLED_TRAIN, str(source), str(target),
                           str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=120, env={**os.environ,
                                            "FACEDUB_CONFIG_DIR": str(tmp_path / "config")})
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 143, (done.returncode, lines)
    assert "Traceback" not in done.stderr, lines
    assert lines == ["terminated; nothing was left half-written, run the same command again"]
    assert not (tmp_path / "run").exists()
