"""The written reference is the same bytes whatever the process's heap holds.

x264's macroblock-tree rate control reads memory it never wrote, so a reference written in
a process whose freed blocks hold other bytes came out different (BENCHMARKS.md,
"Evaluation speed", thirty-seventh round). glibc's malloc fill byte stands in for a long
process's history here: each write runs in its own interpreter with the heap reused up to
32 MB and new blocks filled with 0xFE or 0xFC (fill bytes that moved d18's reference).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from facedub import media
from facedub.evaluate.metrics import frame_digest

TARGET_CLIP = "clip_liveportrait_d18_man_frontal_mouth.mp4"
FRAMES = 8
WRITE = """
import sys
from pathlib import Path
from facedub.evaluate.output_path import OutputPath, write_reference
write_reference(Path(sys.argv[1]), Path(sys.argv[2]), OutputPath(4242, True, 18, "veryfast"), 8)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc tunables")
def test_the_reference_does_not_follow_what_the_heap_held(faces_dir: Path,
                                                           tmp_path: Path) -> None:
    fills = {"fresh": None, "fe": 1, "fc": 3}  # glibc fills new blocks with perturb ^ 0xFF
    writes = []
    for name, perturb in fills.items():
        env = dict(os.environ)
        if perturb is not None:
            env["GLIBC_TUNABLES"] = (f"glibc.malloc.perturb={perturb}:"
                                     "glibc.malloc.mmap_threshold=33554432")
        out = tmp_path / f"{name}.mp4"
        writes.append((out, subprocess.Popen(
            [sys.executable, "-c", WRITE, str(faces_dir / TARGET_CLIP), str(out)], env=env)))
    for _, process in writes:
        assert process.wait(timeout=300) == 0
    digests = {out.stem: [frame_digest(frame.image) for frame in media.iter_frames(out)]
               for out, _ in writes}
    assert all(len(frames) == FRAMES for frames in digests.values())
    assert digests["fe"] == digests["fresh"] and digests["fc"] == digests["fresh"], {
        name: [i for i, (a, b) in enumerate(zip(frames, digests["fresh"], strict=True))
               if a != b] for name, frames in digests.items()}
