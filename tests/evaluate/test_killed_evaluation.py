"""`facedub eval` and benchmarks/quality.py killed mid-run (SIGTERM from a job runner or
`timeout`, SIGHUP from a closed terminal, Ctrl-C): no `facedub-eval-*` folder is left in
the temporary folder, nothing half-written at the output, the shell's exit code (the
command keeps its analyses in the work folder, to resume); and a second quality run into
the same --out resumes the pairs already whole."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PHOTO = "still_biden_frontal.jpg"
CLIP = "clip_liveportrait_d18_man_frontal_mouth.mp4"
SECONDS = 0.4  # 10 frames: the evaluation runs a few seconds, long enough to be stopped in


@pytest.fixture(scope="module")
def quality(benchmark_module: Callable[[str], ModuleType]) -> ModuleType:
    return benchmark_module("quality")


def _leftovers(folder: Path) -> list[Path]:
    """Half-written files (fsutil's `.NAME.PID.XXXX.partial.EXT`) under `folder`."""
    return sorted(folder.rglob("*.partial*"))


def _work_folders(tmp: Path) -> list[Path]:
    """facedub's temporary folders in `tmp` (onnxruntime keeps a `.ses` file there)."""
    return sorted(tmp.glob("facedub-*"))


def _default_signals() -> None:
    """In the child, before it starts: the stop signals' default handling. A test run
    started in the background (`cmd &` ignores SIGINT) or under `nohup` (SIGHUP) would
    hand the command an ignored signal, which it rightly keeps ignoring."""
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def _stopped(command: list[str], tmp: Path, signum: int, ready: Callable[[], bool],
             work: Path | None = None) -> tuple[int, str]:
    """Run `command` with `tmp` as its temporary folder (and `work` as its work folder),
    send `signum` once `ready()`; (exit code, stderr)."""
    env = {**os.environ, "TMPDIR": str(tmp)}
    if work is not None:
        env["FACEDUB_WORK_DIR"] = str(work)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=REPO, preexec_fn=_default_signals)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and not ready():
        time.sleep(0.02)
    assert process.poll() is None, f"it ended before it was signalled: {process.stderr}"
    os.kill(process.pid, signum)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


def _evaluating(tmp: Path) -> Callable[[], bool]:
    """True once the evaluation has analysed the target (its work folder holds it)."""
    return lambda: any(tmp.glob("facedub-eval-*/target/*"))


def _command_evaluating(work: Path) -> Callable[[], bool]:
    """`_evaluating` for `facedub eval`, whose work is kept in the work folder (it resumes:
    evaluate/resume.py)."""
    return lambda: any(work.glob("eval/*/target/*"))


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                              (signal.SIGINT, 130)])
def test_a_killed_eval_leaves_no_work_folder_and_no_report(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path,
        signum: int, code: int) -> None:
    clip = short_clip(CLIP, SECONDS)
    tmp, out, work = tmp_path / "tmp", tmp_path / "report", tmp_path / "work"
    tmp.mkdir()
    command = [sys.executable, "-m", "facedub", "eval", "--source", str(faces_dir / PHOTO),
               "--target", str(clip), "--swapped", str(clip), "-o", str(out)]
    returned, stderr = _stopped(command, tmp, signum, _command_evaluating(work), work)
    assert returned == code, stderr
    assert "Traceback" not in stderr, stderr
    assert _work_folders(tmp) == [], "a temporary folder was left behind"
    assert not out.exists(), "a report folder the command made was left half-written"
    assert _leftovers(work) == []
    # Its analyses are kept, to be resumed (test_eval_resume_round50.py).
    assert _command_evaluating(work)()


def _pairs_file(folder: Path, faces_dir: Path, clip: Path) -> Path:
    pairs = folder / "pairs.toml"
    pairs.write_text(f'[[pair]]\nname = "tiny"\nsource = "{faces_dir / PHOTO}"\n'
                     f'target = "{clip}"\n', encoding="utf-8")
    return pairs


def test_a_killed_quality_run_while_evaluating_leaves_nothing_half_written(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    clip = short_clip(CLIP, SECONDS)
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    folder = out / "tiny" / "mesh"
    folder.mkdir(parents=True)
    shutil.copy(clip, folder / "swapped.mp4")  # --skip-swap: straight to the evaluation
    command = [sys.executable, str(REPO / "benchmarks" / "quality.py"),
               str(_pairs_file(tmp_path, faces_dir, clip)), "--out", str(out), "--skip-swap"]
    returned, stderr = _stopped(command, tmp, signal.SIGTERM, _evaluating(tmp))
    assert returned == 143, stderr
    assert "Traceback" not in stderr, stderr
    assert _work_folders(tmp) == [], "the evaluation's work folder was left behind"
    assert _leftovers(out) == []
    assert not (folder / "report").exists() and not (folder / "run.json").exists()
    assert not (out / "quality.md").exists()


def test_a_killed_quality_run_stops_its_swap_cleanly(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """The swap is a child process: SIGKILLed (as `subprocess.run` does when interrupted)
    it would leave its staged file beside swapped.mp4."""
    clip = short_clip(CLIP, SECONDS)
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    folder = out / "tiny" / "mesh"
    command = [sys.executable, str(REPO / "benchmarks" / "quality.py"),
               str(_pairs_file(tmp_path, faces_dir, clip)), "--out", str(out)]
    returned, stderr = _stopped(command, tmp, signal.SIGTERM,
                                lambda: bool(list(folder.glob("*.partial.mp4"))))
    assert returned == 143, stderr
    assert _leftovers(out) == [] and not (folder / "swapped.mp4").exists()
    assert _work_folders(tmp) == []


def _tiny_pair_swapped_before(quality: ModuleType, faces_dir: Path,
                              short_clip: Callable[[str, float], Path], tmp_path: Path
                              ) -> tuple[Any, Path]:
    """A one-pair plan (a photo onto a 10-frame clip, 4 frames) whose folder under
    `tmp_path` already holds a swapped file (the clip itself); (plan, that folder)."""
    clip = short_clip(CLIP, SECONDS)
    plan = quality.Plan((quality.Pair("tiny", faces_dir / PHOTO, clip),), ("mesh",), {}, 4,
                        None)
    folder = tmp_path / "tiny" / "mesh"
    folder.mkdir(parents=True)
    shutil.copy(clip, folder / "swapped.mp4")
    return plan, folder


def test_a_rerun_resumes_the_pairs_whose_report_is_whole(
        quality: ModuleType, faces_dir: Path, short_clip: Callable[[str, float], Path],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan, folder = _tiny_pair_swapped_before(quality, faces_dir, short_clip, tmp_path)
    first = quality.run_pair(plan.pairs[0], "mesh", plan, tmp_path, skip_swap=True)
    assert first.report is not None and (folder / "run.json").is_file()

    def never(*_: object, **__: object) -> None:
        raise AssertionError("a whole pair was measured again")

    monkeypatch.setattr(quality, "evaluate", never)
    monkeypatch.setattr(quality, "run_swap", never)
    again = quality.run_pair(plan.pairs[0], "mesh", plan, tmp_path, skip_swap=False)
    assert again.report is not None
    assert again.report.summary == first.report.summary
    assert [f.frame for f in again.report.frames] == [f.frame for f in first.report.frames]
    assert quality.markdown([again]) == quality.markdown([first])

    measured: list[str] = []
    monkeypatch.setattr(quality, "evaluate", lambda *args, **_: measured.append("again"))
    # Measured anew: made with another job id, asked to (--redo), or cut short (a kill
    # between its files: no summary.json, the last one written).
    quality.run_pair(plan.pairs[0], "mesh", plan, tmp_path, skip_swap=True, job_id=7)
    quality.run_pair(plan.pairs[0], "mesh", plan, tmp_path, skip_swap=True, redo=True)
    (folder / "report" / "summary.json").unlink()
    quality.run_pair(plan.pairs[0], "mesh", plan, tmp_path, skip_swap=True)
    assert measured == ["again"] * 3


def test_a_pair_measured_anew_replaces_its_earlier_swap(
        quality: ModuleType, faces_dir: Path, short_clip: Callable[[str, float], Path],
        tmp_path: Path) -> None:
    """--redo after a code change swaps again into the pair's folder: the earlier swap is
    replaced, not refused as an existing output (every pair of such a run failed)."""
    plan, folder = _tiny_pair_swapped_before(quality, faces_dir, short_clip, tmp_path)
    earlier = (folder / "swapped.mp4").read_bytes()
    outcome = quality.run_pair(plan.pairs[0], "mesh", plan, tmp_path, skip_swap=False,
                               redo=True)
    assert outcome.error == "" and outcome.report is not None, outcome.error
    assert (folder / "swapped.mp4").read_bytes() != earlier
    assert (folder / "swapped.mp4.provenance.json").is_file()


def test_a_second_signal_does_not_cut_the_cleanup_short() -> None:
    """`timeout` signals the whole group, then quality.py forwards its own SIGTERM to the
    swap: the second one must not raise again inside the first one's `finally`."""
    from facedub.cli.terminal import terminate_cleanly
    from facedub.errors import Terminated

    cleaned = False
    with pytest.raises(Terminated) as stopped, terminate_cleanly():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises here
        finally:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            cleaned = True
    assert cleaned and stopped.value.exit_code == 143


def test_a_hangup_ignored_by_nohup_stays_ignored() -> None:
    from facedub.cli.terminal import terminate_cleanly

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with terminate_cleanly():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
