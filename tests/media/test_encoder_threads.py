"""A fixed job id's swap writes the same pictures whatever CPUs the process may use and
whatever its heap held before: the video encoders' threads are fixed
(`containers.OutputFormat.encoder_threads`), not the codecs' own choice, which follows the
CPUs (x264's threads, VP9's tile rows and MPEG-4's slices each encode differently), and x264
is kept off its AVX-512 code, which read memory it had not written
(`containers._x264_instruction_set`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from facedub import media

FRAMES = 24
SIZE = (240, 320)  # (H, W)


def _moving_texture() -> list[np.ndarray]:
    """FRAMES frames (H, W, 3) uint8 of a noisy texture drifting a few pixels a frame: what
    an encoder's threads decide differently (motion against frames still in flight)."""
    rng = np.random.default_rng(7)
    height, width = SIZE
    texture = rng.integers(0, 256, (height + FRAMES * 3, width + FRAMES * 2, 3),
                           dtype=np.uint8)
    return [np.ascontiguousarray(texture[3 * i:3 * i + height, 2 * i:2 * i + width])
            for i in range(FRAMES)]


def _written_on(cpus: set[int] | None, path: Path, frames: list[np.ndarray]) -> None:
    """`frames` encoded to `path` on a thread of its own that may use only `cpus` (None:
    every CPU this process may use). The codec reads the CPUs of the thread that opens it
    (its first frame)."""
    errors: list[BaseException] = []

    def write() -> None:
        try:
            if cpus is not None:
                os.sched_setaffinity(0, cpus)  # this thread alone (Linux)
            with media.VideoWriter(path, SIZE[1], SIZE[0], Fraction(25), crf=18,
                                   preset="veryfast") as writer:
                for index, frame in enumerate(frames):
                    writer.write(frame, index / 25)
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    if errors:
        raise errors[0]


def _decoded(path: Path) -> list[np.ndarray]:
    return [frame.image for frame in media.iter_frames(path)]


def _differing(first: list[np.ndarray], second: list[np.ndarray]) -> list[int]:
    """The indices of the frames that differ between two decodes of FRAMES frames each."""
    assert len(first) == len(second) == FRAMES
    return [index for index, (a, b) in enumerate(zip(first, second, strict=True))
            if not np.array_equal(a, b)]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity")
                    or len(getattr(os, "sched_getaffinity", lambda _: ())(0)) < 2,
                    reason="needs two CPUs and thread affinity (Linux)")
# H.264 (MP4, MOV, MKV) and MPEG-4 (AVI); VP9 (WebM) too on a real 512 px clip (all 40
# frames up to 26 levels apart), not on this small texture.
@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_an_encode_on_one_cpu_writes_the_same_pictures_as_on_all(tmp_path: Path,
                                                                  suffix: str) -> None:
    frames = _moving_texture()
    one_cpu = {min(os.sched_getaffinity(0))}
    _written_on(None, tmp_path / f"all{suffix}", frames)
    _written_on(one_cpu, tmp_path / f"one{suffix}", frames)
    every, one = _decoded(tmp_path / f"all{suffix}"), _decoded(tmp_path / f"one{suffix}")
    assert _differing(every, one) == []


# A child process that encodes the texture as the test above does, free of any pinning.
_ENCODE_IN_A_CHILD = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
                      "from test_encoder_threads import _moving_texture, _written_on; "
                      "_written_on(None, Path(sys.argv[2]), _moving_texture())")


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="MALLOC_PERTURB_ fills the heap on Linux's glibc")
def test_an_encode_writes_the_same_pictures_whatever_the_heap_held(tmp_path: Path) -> None:
    """Two processes whose fresh allocations glibc fills with different bytes. With x264's
    AVX-512 code this texture's pictures differed from the seventh frame on: the cause of
    the affinity test's failures in full test runs, where earlier tests had left the heap
    dirty (BENCHMARKS.md, Output containers, fifty-sixth round). On a CPU without AVX-512
    the code it guards is never run, and the test passes either way."""
    written = []
    for fill in ("90", "165"):
        path = tmp_path / f"heap{fill}.mp4"
        subprocess.run([sys.executable, "-c", _ENCODE_IN_A_CHILD, str(Path(__file__).parent),
                        str(path)], env={**os.environ, "MALLOC_PERTURB_": fill}, check=True,
                       timeout=600)
        written.append(_decoded(path))
    assert _differing(*written) == []
