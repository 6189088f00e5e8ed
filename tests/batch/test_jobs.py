"""The jobs file: options checked against the swap configs, errors that name the line and
the field, paths relative to the file."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from facedub.batch import BatchConfig, batch, load_jobs
from facedub.errors import FacedubError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A jobs folder with stand-in inputs (the parser only checks that they exist)."""
    (tmp_path / "media").mkdir()
    for name in ("alice.jpg", "bob.jpg", "scene.mp4", "other.mp4"):
        (tmp_path / "media" / name).write_bytes(b"stand-in")
    return tmp_path


def _write(folder: Path, text: str) -> Path:
    path = folder / "jobs.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
[defaults]
engine = "mesh"
crf = 20
source = "media/alice.jpg"

[[job]]
target = "media/scene.mp4"
output = "alice/scene.mp4"

[[job]]
source = "media/bob.jpg"
target = "media/other.mp4"
output = "bob_other.mkv"
relight = 0.5
keep_target_mouth = false
chunk_seconds = 30
"""


def test_defaults_merge_and_paths_resolve_from_the_jobs_file(folder: Path) -> None:
    jobs = load_jobs(_write(folder, GOOD), folder / "out")
    first, second = jobs.jobs
    assert (first.number, first.line, first.output) == (1, 6, "alice/scene.mp4")
    assert first.source == folder / "media" / "alice.jpg"
    assert first.target == folder / "media" / "scene.mp4"
    assert first.swap == {"crf": 20} and first.chunk_seconds is None
    assert second.source == folder / "media" / "bob.jpg"
    assert second.composite == {"relight": 0.5}
    assert second.mesh == {"keep_target_mouth": False}
    assert second.chunk_seconds == 30.0
    config = second.swap_config(folder / "work", folder / "config")
    assert (config.crf, config.composite.relight) == (20, 0.5)
    assert first.settings() != second.settings()


@pytest.mark.parametrize(("text", "expected"), [
    ("[[job]]\ntarget = 'media/scene.mp4'\noutput = 'x.mp4'\nsource = 'media/alice.jpg'\n"
     "crf = 99\n", ":5: [[job]] 1, crf: --crf 99"),
    ("[[job]]\ntarget = 'media/scene.mp4'\noutput = 'x.mp4'\nsource = 'media/alice.jpg'\n"
     "crf = 'high'\n", ":5: [[job]] 1, crf: 'high' is not a whole number"),
    ("[defaults]\ncolour = 'reinhard'\n[[job]]\ntarget = 'media/scene.mp4'\n",
     ":2: [defaults], colour: not an option of swap or batch"),
    ("[defaults]\nsource = 'media/alice.jpg'\n[[job]]\ntarget = 'media/scene.mp4'\n"
     "output = 'a.mp4'\n[[job]]\ntarget = 'media/nowhere.mp4'\noutput = 'b.mp4'\n",
     ":7: [[job]] 2, target: "),
    ("[[job]]\ntarget = 'media/scene.mp4'\noutput = 'x.mp4'\n",
     ":1: [[job]] 1: the mesh engine needs source"),
    ("[defaults]\nsource = 'media/alice.jpg'\n[[job]]\ntarget = 'media/scene.mp4'\n"
     "output = 'x.mp4'\n[[job]]\ntarget = 'media/other.mp4'\noutput = 'x.mp4'\n",
     ":8: [[job]] 2, output: 'x.mp4' is also the output of job 1"),
    ("[[job]]\ntarget = 'media/scene.mp4'\noutput = '../x.mp4'\nsource = 'media/alice.jpg'\n",
     ":3: [[job]] 1, output: '../x.mp4': give a path inside OUTDIR"),
    ("[[job]]\ntarget = 'media/bob.jpg'\noutput = 'x.mp4'\nsource = 'media/alice.jpg'\n",
     ":1: [[job]] 1: "),
    ("[[job]]\ntarget = 'media/scene.mp4'\noutput = 'x.mp4'\nsource = 'media/alice.jpg'\n"
     "blend = 'smudge'\n", ":5: [[job]] 1, blend: --blend smudge"),
    ("[[job]]\ntarget = 'media/scene.mp4'\noutput = 'x.mp4'\nengine = 'neural'\n",
     "the neural engine needs model"),
    ("[[job]]\ntarget = 'media/scene.mp4'\noutput = 'x.mp4'\nsource = 'media/alice.jpg'\n"
     "chunk_seconds = 0.5\n", ":5: [[job]] 1, chunk_seconds: use at least 2 seconds"),
    ("[[job]\ntarget = 1\n", "not valid TOML: "),
    ("[defaults]\nengine = 'mesh'\n", "no [[job]] tables"),
])
def test_a_bad_jobs_file_names_the_line_and_the_field(folder: Path, text: str,
                                                      expected: str) -> None:
    path = _write(folder, text)
    with pytest.raises(FacedubError) as raised:
        load_jobs(path, folder / "out")
    message = str(raised.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_the_command_exits_2_on_a_bad_jobs_file_and_writes_nothing(folder: Path) -> None:
    path = _write(folder, GOOD.replace("crf = 20", "crf = -1"))
    out = folder / "out"
    run = subprocess.run([sys.executable, "-m", "facedub", "batch", str(path), "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert f"{path}:3: [defaults], crf: --crf -1" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_an_unreachable_ray_address_is_one_line_and_leaves_no_folder(folder: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = folder / "out"
    config = BatchConfig(work_dir=folder / "work", config_dir=folder / "config",
                         cluster="ray", address=f"127.0.0.1:{port}")
    with pytest.raises(FacedubError, match="nothing answers there"):
        batch(load_jobs(_write(folder, GOOD), out), out, config)
    assert not out.exists()
