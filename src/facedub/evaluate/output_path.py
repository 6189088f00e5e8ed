"""The target as facedub writes an output, with no swap: the zero of the texture measures.

Every facedub output is watermarked (an even floor, weaker on faces: provenance.watermark)
and re-encoded; the target is not. Measured against the raw target, the face of a perfect
swap reads softer and cleaner than its surroundings (blink-video: grain mismatch 0.260,
sharpness 0.104 for the target's own frames marked and encoded; BENCHMARKS.md, "Realism",
nineteenth round). So the texture measures compare the output with the target passed
through the same output path: the same job's marks (`provenance.mark.OutputMarks`) and the
same encoder settings (`media.VideoWriter`, `media.write_photo`), read from the output's
provenance sidecar.
"""

from __future__ import annotations

import ctypes
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facedub import media
from facedub.errors import FacedubError
from facedub.provenance.manifest import ProvenanceFacts, sidecar_path
from facedub.provenance.mark import OutputMarks
from facedub.swap import PhotoOutput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutputPath:
    """How facedub wrote one output: the watermark's job id, the visible label, and the
    H.264 quality and preset of a video (a photo's format follows its suffix)."""

    job_id: int
    visible_label: bool
    crf: int
    preset: str


def output_path_of(swapped: Path) -> OutputPath | None:
    """The output path recorded in `swapped`'s provenance sidecar; None: no sidecar, or
    not one of a facedub swap (another tool's output: the raw target stays the zero)."""
    path = sidecar_path(swapped)
    try:
        facts = ProvenanceFacts.from_json(json.loads(path.read_text(encoding="utf-8"))["facts"])
        swap = facts.settings["swap"]
        return OutputPath(facts.job_id, bool(swap["visible_label"]), int(swap["crf"]),
                          str(swap["preset"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, FacedubError) as error:
        log.warning("%s: no output path read (%s); texture measured against the raw target",
                    path, error)
        return None


def write_reference(target: Path, out: Path, output: OutputPath, limit: int | None) -> Path:
    """Write `target`'s first `limit` frames (None: all), marked and encoded as `output`
    says, to `out` (whose suffix picks the format, as the swap's output path's does).
    The same bytes in every process (`zeroed_allocations`)."""
    marks = OutputMarks(output.job_id, visible_label=output.visible_label)
    info = media.probe(target)
    if info.kind == "photo":
        # Through the swap's own photo writer: a transparent target's alpha is kept where
        # the suffix holds it, as the swap kept it (the reference was flattened onto white,
        # an RGB file beside the swap's RGBA one).
        PhotoOutput.of(target, out, marks, output.visible_label).write(
            out, marks.mark(media.read_photo(target)))
        return out
    with zeroed_allocations(), media.VideoWriter(
            out, info.width, info.height, info.fps, crf=output.crf,
            preset=output.preset) as writer:
        for frame in media.iter_frames(target):
            if limit is not None and frame.index >= limit:
                break
            writer.write(marks.mark(frame.image), frame.time)
    return out


# glibc's mallopt parameter for the byte freed blocks are filled with (its complement fills
# new ones); 0 turns the filling off.
_M_PERTURB = -6
_ZERO_FILL = 0xFF  # new blocks get 0xFF ^ 0xFF: zero, as a fresh mapping from the kernel is


@contextmanager
def zeroed_allocations() -> Iterator[None]:
    """Inside the block every block glibc's malloc hands out starts zeroed.

    x264's macroblock-tree rate control reads memory it never wrote (with mbtree=0 the
    encode no longer depends on it; threads, lookahead, AQ, weightp, psy, B-frames all
    still did). A fresh mapping reads zero, but a block reused from the heap holds what
    the process left there, so the reference's bytes followed the process's history: in
    test workers one write in eight read d18's IDR frame's last rows differently, and
    blink-video's 40 frames took 3 other forms with malloc's fill bytes 0xFE-0xFC
    (BENCHMARKS.md, "Evaluation speed", thirty-seventh round). Zero-filled, every process
    writes what a fresh one does. Process-wide while it lasts (the evaluation runs nothing
    beside it); the filling is turned off after, as it is by default. A no-op where the C
    library has no mallopt (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        yield
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_PERTURB, _ZERO_FILL)
    try:
        yield
    finally:
        mallopt(_M_PERTURB, 0)


class WrittenFrames:
    """The written reference's frames, looked up in time order (`at`): a frame the
    encoder dropped (AVI's fixed grid) reads as None, and the rest stay in step."""

    def __init__(self, reference: Path | None, tolerance: float) -> None:
        self._frames: Iterator[media.Frame] = iter(
            () if reference is None else media.iter_frames(reference))
        self._tolerance = tolerance  # seconds: half a frame
        self._current = next(self._frames, None)

    def at(self, time: float) -> np.ndarray | None:
        """The image written at `time` (seconds, non-decreasing over calls), or None."""
        while self._current is not None and self._current.time < time - self._tolerance:
            self._current = next(self._frames, None)
        if self._current is None or abs(self._current.time - time) > self._tolerance:
            return None
        return self._current.image
