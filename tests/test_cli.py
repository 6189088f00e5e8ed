"""End-to-end runs of the `facedub` command, the way a user types it."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_extract_then_inspect(faces_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "faces"
    code, output = _run("extract", faces_dir / "multi_three_men_voc.jpg", "-o", out,
                        "--size", "64")
    assert code == 0, output
    assert "3 faces" in output and "person 2" in output
    code, output = _run("inspect", out)
    assert code == 0, output
    assert (out / "coverage.png").stat().st_size > 1000
    assert "yaw p5..p95" in output


def test_a_second_writer_of_one_output_folder_is_refused(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two `extract -o` into one folder at once wrote every frame twice, and the one that
    failed removed the other's folder: the second is refused and touches nothing, however
    the folder is spelled."""
    from facedub.fsutil import sole_writer
    from facedub.locations import work_dir

    photo = faces_dir / "multi_three_men_voc.jpg"
    out = tmp_path / "real" / "faces"
    out.parent.mkdir()
    (tmp_path / "link").symlink_to(out.parent)
    monkeypatch.chdir(out.parent)
    # Another facedub, given the folder through a symbolic link; this one a relative path.
    with sole_writer(tmp_path / "link" / "faces", work_dir() / "locks"):
        code, output = _run("extract", photo, "-o", "faces", "--size", "64")
        assert code == 2 and "another facedub is writing this folder" in output
        assert not out.exists()
        out.mkdir()
        (out / "theirs.txt").write_text("being written")
        code, output = _run("extract", photo, "-o", out, "--size", "64")
        assert code == 2 and "another facedub is writing" in output
        assert (out / "theirs.txt").read_text() == "being written"
    (out / "theirs.txt").unlink()
    code, output = _run("extract", photo, "-o", out, "--size", "64")
    assert code == 0, output


def test_a_second_swap_into_one_file_is_refused(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two swaps into one file at once: the last rename won, with either run's sidecar
    beside it. The second is refused before any work and leaves the first's file alone."""
    from facedub.fsutil import sole_writer
    from facedub.locations import work_dir

    monkeypatch.setenv("FACEDUB_WORK_DIR", str(tmp_path / "work"))
    photo = faces_dir / "multi_three_men_voc.jpg"
    out = tmp_path / "swapped.jpg"
    out.write_bytes(b"the other run's output")
    with sole_writer(out, work_dir() / "locks", "file"):
        code, output = _run("swap", "--source", photo, "--target", photo, "-o", out,
                            "--overwrite")
    assert code == 2 and "another facedub is writing this file now" in output, output
    assert out.read_bytes() == b"the other run's output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["swapped.jpg", "work"]


@pytest.mark.parametrize(("args", "message"), [
    (["extract", "{missing}", "-o", "{out}"], "no such file"),
    (["extract", "{text}", "-o", "{out}"], "not a readable"),
    (["extract", "{photo}", "-o", "{out}", "--size", "100"], "--size 100"),
    (["extract", "{photo}", "-o", "/proc/facedub-test-faces"], "cannot write"),
    # (Round 45: the folders above -o are not created, as swap's are not.)
    (["extract", "{photo}", "-o", "/proc/facedub-test/faces"], "does not exist; create it"),
    (["inspect", "{out}"], "not a faceset"),
    (["swap", "--source", "{photo}", "--target", "{photo}", "-o", "{out}.mp4"],
     "must be a photo"),
    (["swap", "--target", "{photo}", "-o", "{out}.jpg"], "needs --source"),
    (["swap", "--source", "{photo}", "--target", "{photo}", "-o", "{out}.jpg", "--color",
      "sepia"], "--color sepia"),
    (["swap", "--source", "{photo}", "--target", "{photo}", "-o", "{out}.jpg", "--occlusion",
      "sometimes"], "--occlusion sometimes"),
    (["swap", "--source", "{photo}", "--target", "{photo}", "-o", "{out}.jpg", "--job-id",
      "65536"], "--job-id 65536"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
        args: list[str], message: str, faces_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEDUB_WORK_DIR", str(tmp_path / "work"))
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    values = {"missing": tmp_path / "missing.mp4", "text": text,
              "photo": faces_dir / "still_biden_frontal.jpg", "out": tmp_path / "out"}
    code, output = _run(*(a.format(**values) for a in args))
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in output
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize(("flag", "stubble"), [((), "hair"), (("--stubble", "shave"), "shave"),
                                             (("--stubble", "as-is"), "as-is")])
def test_the_sources_stubble_is_hair_unless_asked_otherwise(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        flag: tuple[str, ...], stubble: str) -> None:
    """The source's stubble is rendered as hair unless `--stubble` asks for the target's
    chin (shaving costs the source's identity; BENCHMARKS.md, eleventh round) or for the
    stubble as it is."""
    import facedub.engines.registry as registry
    from facedub.errors import FacedubError

    asked: list[str] = []

    def opened(name: str, request: registry.EngineRequest) -> registry.SwapEngine:
        asked.append(request.mesh.stubble)
        raise FacedubError("stop here")

    monkeypatch.setattr(registry, "open_engine", opened)
    photo = faces_dir / "still_biden_frontal.jpg"
    code, output = _run("swap", "--source", photo, "--target", photo, "-o",
                        tmp_path / "out.jpg", *flag)
    assert code == 2 and "stop here" in output and asked == [stubble], output


def test_a_swap_that_fails_closes_its_engine(faces_dir: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed swap ends no track, so the mesh engine's eye-reading landmarker would be
    left to the garbage collector, where MediaPipe's close can hang: the command closes
    the engine itself and exits with the one-line error."""
    import importlib

    import facedub.engines.registry as registry
    from facedub.errors import FacedubError

    closed: list[bool] = []

    class Engine:
        def close(self) -> None:
            closed.append(True)

    def failing(*args: object, **kwargs: object) -> None:
        raise FacedubError("the swap failed here")

    monkeypatch.setattr(registry, "open_engine", lambda name, request: Engine())
    monkeypatch.setattr(importlib.import_module("facedub.swap"), "swap", failing)
    photo = faces_dir / "still_biden_frontal.jpg"
    code, output = _run("swap", "--source", photo, "--target", photo, "-o",
                        tmp_path / "out.jpg")
    assert code == 2 and "the swap failed here" in output and closed == [True], output


def test_an_unknown_stubble_mode_is_refused_by_name(faces_dir: Path, tmp_path: Path) -> None:
    photo = faces_dir / "still_biden_frontal.jpg"
    code, output = _run("swap", "--source", photo, "--target", photo, "-o",
                        tmp_path / "out.jpg", "--stubble", "trim")
    assert code == 2 and "--stubble trim: use one of hair, shave, as-is" in output, output
    assert not (tmp_path / "out.jpg").exists()


def test_swap_a_photo_through_the_installed_command(faces_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "swapped.jpg"
    command = [sys.executable, "-m", "facedub", "swap",
               "--source", str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
               "--target", str(faces_dir / "still_rose_leslie_frontal.jpg"), "-o", str(out),
               "--work-dir", str(tmp_path / "work")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert out.stat().st_size > 10_000
    assert "1/1 frames swapped" in completed.stderr
