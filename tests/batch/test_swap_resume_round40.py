"""A long video's swap renders in segments kept in the work folder: a run killed after a
segment is finished renders only the rest when run again, into the frames and job id of an
uninterrupted run; a changed option starts afresh; a short clip keeps the unsplit swap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from batch_media import KATIE, RUDD, remuxed_excerpt

from facedub import media
from facedub.batch.resumable import RESUME_FOLDER, plan_segments
from facedub.swap import SwapResult

REPO = Path(__file__).resolve().parents[2]
SEGMENT_SECONDS = 0.8  # 2.5 s (63 frames) of a clip with a keyframe every 0.48 s: 3 segments

# The child: the same swap as `_swap`, killed (SIGKILL: no clean-up runs) as soon as its
# first segment is finished, while it renders the second.
CHILD = """
import os, signal, sys
from pathlib import Path
from facedub.batch.resumable import plan_segments, resumable_swap
from facedub.engines.mesh import MeshEngine
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.swap import SwapConfig

target, out, work, source = map(Path, sys.argv[1:5])

class KillAfterFirstSegment:
    def start(self, total, description): pass
    def status(self, text): pass
    def finish(self): pass
    def advance(self, steps=1):
        if any((work / "resume").glob("*/segment-0000.json")):
            os.kill(os.getpid(), signal.SIGKILL)

engine = MeshEngine(analysed(source, work, ExtractConfig(crop_size=256)), source_path=source)
config = SwapConfig(work_dir=work, config_dir=work / "config")
resumable_swap(target, engine, out, config, plan_segments(target, float(sys.argv[5])),
               KillAfterFirstSegment())
"""


class Recorded:
    """A Progress that keeps every start's total and every advance's steps."""

    def __init__(self) -> None:
        self.totals: list[int | None] = []
        self.steps: list[int] = []

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        self.totals.append(total)

    def status(self, text: str) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        self.steps.append(steps)

    def finish(self) -> None:
        pass


class StopAfterFirstSegment(Recorded):
    """Ctrl-C as the second segment renders."""

    def __init__(self, work: Path) -> None:
        super().__init__()
        self.work = work

    def advance(self, steps: int = 1) -> None:
        super().advance(steps)
        if any((self.work / RESUME_FOLDER).glob("*/segment-0000.json")):
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def clip(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return remuxed_excerpt(faces_dir / KATIE, 2.5, tmp_path_factory.mktemp("clip") / "k.mp4")


def _swap(faces_dir: Path, target: Path, out: Path, work: Path, job_id: int | None = None,
          crf: int = 18, progress: Recorded | None = None,
          said: list[str] | None = None) -> SwapResult:
    from facedub.batch.resumable import resumable_swap
    from facedub.engines.mesh import MeshEngine
    from facedub.extract.config import ExtractConfig
    from facedub.extract.workspace import analysed
    from facedub.swap import SwapConfig

    source = faces_dir / RUDD
    engine = MeshEngine(analysed(source, work, ExtractConfig(crop_size=256)),
                        source_path=source)
    config = SwapConfig(work_dir=work, config_dir=work / "config", job_id=job_id, crf=crf)
    segments = plan_segments(target, SEGMENT_SECONDS)
    assert segments is not None and len(segments) == 3
    try:
        return resumable_swap(target, engine, out, config, segments, progress,
                              say=None if said is None else said.append)
    finally:
        engine.close()


def _frames(path: Path) -> list[np.ndarray]:
    return [frame.image for frame in media.iter_frames(path)]


def _sidecar_job(path: Path) -> int:
    facts = json.loads(path.with_name(path.name + ".provenance.json").read_text())
    return int(facts["facts"]["job_id"])


def test_a_killed_swap_resumes_after_its_finished_segment_into_the_same_output(
        faces_dir: Path, clip: Path, tmp_path: Path) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    out.mkdir()
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    killed = subprocess.run(
        [sys.executable, "-c", CHILD, str(clip), str(out / "resumed.mp4"), str(work),
         str(faces_dir / RUDD), str(SEGMENT_SECONDS)],
        capture_output=True, text=True, env=env, timeout=600)
    assert killed.returncode == -9, killed.stderr
    assert sorted(out.iterdir()) == []
    (folder,) = (work / RESUME_FOLDER).iterdir()
    drawn = json.loads((folder / "job.json").read_text())["job_id"]
    first = plan_segments(clip, SEGMENT_SECONDS)[0]  # type: ignore[index]

    progress, said = Recorded(), []
    resumed = _swap(faces_dir, clip, out / "resumed.mp4", work, progress=progress, said=said)
    # Skipped: the first segment's frames are out of the bar (the line says them; counted
    # as one step they made its speed read too fast), and only the others' are rendered
    # (one advance a frame).
    frames = 63
    assert said == [f"resuming: {first.end} of {frames} frames already rendered"]
    assert progress.totals == [frames - first.end]
    assert progress.steps == [1] * (frames - first.end)
    assert resumed.frames == frames and resumed.job_id == drawn
    assert not folder.exists() and sorted(p.name for p in out.iterdir()) == [
        "resumed.mp4", "resumed.mp4.provenance.json"]

    whole = _swap(faces_dir, clip, out / "whole.mp4", tmp_path / "work2", job_id=drawn)
    assert whole.frames == frames and _sidecar_job(out / "whole.mp4") == drawn
    assert _sidecar_job(out / "resumed.mp4") == drawn
    assert all(np.array_equal(a, b) for a, b in zip(
        _frames(out / "whole.mp4"), _frames(out / "resumed.mp4"), strict=True))
    from facedub.provenance.verify import verify

    found = verify(out / "resumed.mp4").to_json()
    assert found["watermark"]["job_id"] == drawn
    assert found["manifest"]["valid"] and found["manifest"]["facts"]["job_id"] == drawn


def test_a_changed_option_renders_every_segment_again(faces_dir: Path, clip: Path,
                                                      tmp_path: Path) -> None:
    work, out = tmp_path / "work", tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        _swap(faces_dir, clip, out, work, job_id=7, progress=StopAfterFirstSegment(work))
    (stale,) = (work / RESUME_FOLDER).iterdir()
    assert (stale / "segment-0000.mp4").is_file() and not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".out")] == []

    progress, said = Recorded(), []
    result = _swap(faces_dir, clip, out, work, job_id=7, crf=20, progress=progress,
                   said=said)
    assert said == [] and progress.steps == [1] * 63
    assert result.frames == 63 and not stale.exists()
    assert list((work / RESUME_FOLDER).iterdir()) == []


def _video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]


def test_a_short_clip_keeps_the_unsplit_swap(faces_dir: Path, clip: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `MIN_SEGMENTS` segments of `SEGMENT_SECONDS` (the README's and benchmarks'
    clips are 8-16 s), the command swaps unsplit: the library's `swap`, its bytes as
    before, and no resume folder."""
    import importlib

    from typer.testing import CliRunner

    from facedub.cli import app

    swap_module = importlib.import_module("facedub.swap")  # the package's `swap` is the function
    called: list[Path] = []
    unsplit = swap_module.swap

    def recorded(target: Path, *args: object, **kwargs: object) -> SwapResult:
        called.append(target)
        return unsplit(target, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(swap_module, "swap", recorded)
    assert plan_segments(clip) is None and plan_segments(faces_dir / RUDD) is None
    work = tmp_path / "work"
    done = CliRunner().invoke(app, [
        "swap", "--source", str(faces_dir / RUDD), "--target", str(clip), "-o",
        str(tmp_path / "cli.mp4"), "--work-dir", str(work), "--job-id", "9"])
    assert done.exit_code == 0, done.output
    assert called == [clip] and not (work / RESUME_FOLDER).exists()


def test_ctrl_c_in_a_segmented_swap_says_it_continues() -> None:
    import typer

    from facedub.cli.terminal import CONTINUES, RENDERS_AGAIN, InterruptedWith, user_errors

    lines: list[str] = []

    def interrupted(stop: KeyboardInterrupt) -> int:
        def command() -> None:
            raise stop

        with pytest.raises(typer.Exit) as exited:
            user_errors(command)()
        return exited.value.exit_code

    import facedub.cli.terminal as terminal

    say = terminal.say
    terminal.say = lines.append  # type: ignore[assignment]
    try:
        codes = [interrupted(InterruptedWith(RENDERS_AGAIN)),
                 interrupted(InterruptedWith(CONTINUES))]
    finally:
        terminal.say = say
    assert codes == [130, 130] and lines == [RENDERS_AGAIN, CONTINUES]
    assert "continues from the last finished segment" in CONTINUES


def test_a_segment_stops_decoding_after_its_last_frame(faces_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    # iter_frames decodes every frame and yields only those asked for: a segment that
    # asked for its own frames only went on decoding the video to its end (each of a long
    # clip's segments decoded the rest of the clip before it could finish). Since the
    # forty-first round a segment decodes from its keyframe (`media.iter_window`); one
    # whose pre-roll starts before the first keyframe after frame 0 (here: KATIE's, at
    # 12) still decodes from frame 0, through iter_frames.
    from facedub.batch import resumable
    from facedub.batch.chunks import Chunk

    decoded: list[int] = []

    def iter_frames(path: Path, indices: range) -> object:
        for index in range(1000):  # a 1000-frame video
            decoded.append(index)
            if index in indices:
                yield media.Frame(index, index / 25, np.zeros((2, 2, 3), np.uint8))

    monkeypatch.setattr(media, "iter_frames", iter_frames)
    chunk = Chunk(index=1, count=4, first=35, end=500, preroll=5, start_time=1.4, job_id=1)
    frames = [frame.index for frame in resumable._window(faces_dir / KATIE, chunk)]
    assert frames == list(range(5, 500))
    assert max(decoded) <= 500
