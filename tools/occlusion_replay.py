"""Record the occlusion mask's inputs from a swap, replay them with the code on
PYTHONPATH, and compare or look at the masks (see BENCHMARKS.md "## Occlusion mask").

    python tools/occlusion_replay.py record TARGET REC.npz [-- SWAP OPTIONS...]
    python tools/occlusion_replay.py replay REC.npz MASKS.npz
    python tools/occlusion_replay.py compare REC.npz A.npz B.npz
    python tools/occlusion_replay.py sheet REC.npz OUT.png FRAMES MASKS.npz...

`record` runs `python -m facedub swap --target TARGET` (Paul Rudd's studio photo as the
source, the output in a temporary folder unless SWAP OPTIONS say otherwise) and keeps
every target crop, its landmarks, the pixels the frame shows, the track and time the
compositor hands the mask, and the tracks' glasses judgement. `replay` makes the masks
again; `compare` prints their mean over the crop and the frames where any pixel moved by
0.01 or more; `sheet` draws the crops of FRAMES ("40,41,45-47") with each set of masks
over them in red. Frame numbers are the crop's time times the recording's fps.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

FACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "faces"
SOURCE = FACES / "still_paul_rudd_frontal_studio.jpg"
CHANGED = 0.01


def record(target: Path, out: Path, options: list[str]) -> None:
    from facedub import media
    from facedub.cli import app
    from facedub.composite import occlusion

    calls: list[tuple[int, float, np.ndarray, np.ndarray, np.ndarray]] = []
    masks_class = occlusion.OcclusionMasks
    original = masks_class.__call__
    seen: list[dict[int, float]] = []

    def recording(self: occlusion.OcclusionMasks, track: int, at: float, image: np.ndarray,
                  landmarks: np.ndarray, in_frame: np.ndarray | None = None
                  ) -> occlusion.Occluded:
        shown = np.ones(image.shape[:2], bool) if in_frame is None else in_frame
        calls.append((track, at, image.copy(), np.asarray(landmarks).copy(), shown.copy()))
        if not seen:
            seen.append(dict(self.worn))
        return original(self, track, at, image, landmarks, in_frame)

    masks_class.__call__ = recording  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as folder:
        if "-o" not in options and "--out" not in options:
            options = [*options, "-o", str(Path(folder) / "out.mp4")]
        if "--source" not in options:
            options = [*options, "--source", str(SOURCE)]
        try:
            app(["swap", "--target", str(target), *options], standalone_mode=False)
        finally:
            masks_class.__call__ = original  # type: ignore[method-assign]
    worn = seen[0] if seen else {}
    np.savez_compressed(
        out, track=np.array([c[0] for c in calls]), time=np.array([c[1] for c in calls]),
        image=np.stack([c[2] for c in calls]), landmarks=np.stack([c[3] for c in calls]),
        in_frame=np.stack([c[4] for c in calls]),
        worn=np.array(sorted(worn.items()), np.float64).reshape(-1, 2),
        fps=np.array(float(media.probe(target).fps)))
    print(f"{out}: {len(calls)} faces")


def replay(recording: Path, out: Path) -> None:
    from facedub.composite.occlusion import OccluderModel, OcclusionMasks

    cv2.setNumThreads(1)  # as in the swap
    data = dict(np.load(recording))  # read once: an npz decompresses on every access
    masks = OcclusionMasks(OccluderModel())
    masks.worn.update({int(track): float(value) for track, value in data["worn"]})
    made, cpu = [], []
    for k in range(len(data["time"])):
        started = time.process_time()
        made.append(masks(int(data["track"][k]), float(data["time"][k]), data["image"][k],
                          data["landmarks"][k], data["in_frame"][k]).mask.astype(np.float16))
        cpu.append(time.process_time() - started)
    np.savez_compressed(out, mask=np.stack(made))
    print(f"{out}: {len(made)} faces, {1000 * float(np.median(cpu)):.2f} ms CPU a face "
          "(median)")


def _frames(recording: Path) -> np.ndarray:
    data = np.load(recording)
    return np.round(data["time"] * float(data["fps"])).astype(int)


def compare(recording: Path, first: Path, second: Path) -> None:
    frames = _frames(recording)
    a = np.load(first)["mask"].astype(np.float32)
    b = np.load(second)["mask"].astype(np.float32)
    moved = np.abs(a - b).reshape(len(a), -1).max(axis=1)
    print(f"mask mean {a.mean():.4f} -> {b.mean():.4f}; {int((moved > 0).sum())} of {len(a)} "
          f"frames differ at all; changed by {CHANGED} or more:")
    for k in np.flatnonzero(moved >= CHANGED):
        print(f"  {frames[k]}: {a[k].mean():.4f} -> {b[k].mean():.4f} (max {moved[k]:.2f})")


def _wanted(spec: str) -> set[int]:
    wanted: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        wanted.update(range(int(first), int(last or first) + 1))
    return wanted


def sheet(recording: Path, out: Path, spec: str, masks: list[Path]) -> None:
    data = dict(np.load(recording))
    frames, wanted = _frames(recording), _wanted(spec)
    sets = [np.load(path)["mask"].astype(np.float32) for path in masks]
    rows = []
    for k in np.flatnonzero([frame in wanted for frame in frames]):
        crop = cv2.resize(data["image"][k], (320, 320), interpolation=cv2.INTER_AREA)
        tiles = [crop]
        for mask in sets:
            alpha = 0.6 * cv2.resize(mask[k], (320, 320))[..., None]
            tiles.append((crop * (1 - alpha) + np.array([255.0, 0, 0]) * alpha).astype(np.uint8))
        row = np.hstack(tiles)
        cv2.putText(row, str(frames[k]), (4, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 0), 2)
        rows.append(row)
    cv2.imwrite(str(out), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "record":
        record(Path(rest[0]), Path(rest[1]), [a for a in rest[2:] if a != "--"])
    elif command == "replay":
        replay(Path(rest[0]), Path(rest[1]))
    elif command == "compare":
        compare(Path(rest[0]), Path(rest[1]), Path(rest[2]))
    elif command == "sheet":
        sheet(Path(rest[0]), Path(rest[1]), rest[2], [Path(p) for p in rest[3:]])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
