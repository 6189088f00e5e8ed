"""Trace the lightness under the eyes through a mesh swap, stage by stage (see BENCHMARKS.md
"Dark patches under the eyes traced" under Realism).

    python tools/under_eye_trace.py SOURCE TARGET FRAME [lift=0|1] [eyes=0|1] [line=nose]

Runs `python -m facedub swap --engine mesh` (the output in a temporary folder) and keeps, at
the target face FRAME (0-based), the source crops blended there (as on disk and after the
light lift, `mesh_light.without_light`), the target crop, the engine's face, the face after
the compositor's colour step (`composite.tone.carry_detail`) and the finished crop. For
each it prints CIELAB L along a line from the lower lid's middle (landmark 145, 374) to
the cheek beside the mouth (207, 427), at tenths 0.1 ... 1.0 of the way, less the value at
1.0: a dark patch under the eye is a run of negative numbers. Side R is the person's right
(the viewer's left). `lift=0` / `eyes=0` run with the engine's light lift / the source's
own eyes off. `line=nose`: the lines run from the nose ridge (195) over each flank to the
cheek beside the nose (50, 280) instead (a stripe beside the nose).
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

LINES = {"R": (145, 207), "L": (374, 427)}  # lower lid middle -> cheek, per side
NOSE_LINES = {"R": (195, 50), "L": (195, 280)}  # nose ridge -> cheek beside the nose
STEPS = np.linspace(0.1, 1.0, 10)


def lightness_line(rgb: np.ndarray, landmarks: np.ndarray, side: str,
                   lines: dict[str, tuple[int, int]] = LINES) -> np.ndarray:
    """(10,) CIELAB L of `rgb` (S, S, 3) uint8 along the line of `side` in `lines`
    (from the lid or the nose ridge to the cheek), lightly blurred (pores are not a
    patch), less its value at the cheek end."""
    lab = cv2.cvtColor(rgb[..., :3].astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lightness = cv2.GaussianBlur(lab[..., 0], (0, 0), rgb.shape[0] / 200)
    start, end = (np.asarray(landmarks)[index, :2] for index in lines[side])
    points = np.round(start + STEPS[:, None] * (end - start)).astype(int)
    values = lightness[points[:, 1], points[:, 0]]
    relative: np.ndarray = values - values[-1]
    return relative


def record(source: Path, target: Path, frame: int, options: dict[str, str]
           ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(stage, image, landmarks in its pixels) at target face `frame`."""
    from facedub.cli import app
    from facedub.composite import compositor
    from facedub.engines import mesh
    from facedub.faces.align import landmarks_in_crop

    stages: list[tuple[str, np.ndarray, np.ndarray]] = []
    counts = {"engine": 0, "colour": 0}
    moved: list[np.ndarray] = []
    originals = (mesh.MeshEngine.swap_face, compositor.Compositor._match_colour)

    def swap_face(self: Any, face: Any) -> Any:
        result = originals[0](self, face)
        if counts["engine"] == frame:
            if "lift" in options or "eyes" in options:
                print("(lift, source eyes) =", (self.config.lift_source_shadows,
                                                self.config.source_eyes))
            blend = self._blend_by_track[face.track]
            for index, weight in sorted(blend.items(), key=lambda item: -item[1]):
                record = self._records[index]
                points = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
                stages.append((f"source {index} ({weight:.2f})", self._source_crop(index),
                               points))
                stages.append(("  light lifted", self._clean_crop(index)[..., :3], points))
            moved.append(self._shape.moved(face.track, face.face_landmarks))
            stages.append(("target", face.image.copy(), face.face_landmarks))
            stages.append(("engine", result.image.copy(), moved[0]))
        counts["engine"] += 1
        return result

    def match_colour(self: Any, face: Any, image: np.ndarray, mask: np.ndarray,
                     relief: float = 0.0) -> Any:
        result = originals[1](self, face, image, mask, relief)
        if counts["colour"] == frame:
            stages.append(("colour (carry_detail)", result.copy(), moved[0]))
        counts["colour"] += 1
        return result

    init = mesh.MeshEngine.__init__

    def configured(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        changes = {"lift_source_shadows": options.get("lift"), "source_eyes": options.get("eyes")}
        self.config = dataclasses.replace(self.config, **{
            key: bool(int(value)) for key, value in changes.items() if value is not None})

    mesh.MeshEngine.swap_face = swap_face  # type: ignore[method-assign]
    compositor.Compositor._match_colour = match_colour  # type: ignore[method-assign]
    mesh.MeshEngine.__init__ = configured  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as folder:
            app(["swap", "--source", str(source), "--target", str(target), "--engine", "mesh",
                 "-o", str(Path(folder) / "out.mp4")], standalone_mode=False)
    finally:
        mesh.MeshEngine.swap_face, compositor.Compositor._match_colour = (  # type: ignore[method-assign]
            originals)
        mesh.MeshEngine.__init__ = init  # type: ignore[method-assign]
    return stages


def main(argv: list[str]) -> None:
    source, target, frame, *rest = argv
    options = dict(option.split("=", 1) for option in rest)
    lines = NOSE_LINES if options.pop("line", "") == "nose" else LINES
    stages = record(Path(source), Path(target), int(frame), options)
    start = "nose ridge" if lines is NOSE_LINES else "lower lid"
    for side in lines:
        print(f"side {side}: L along {start} -> cheek at 0.1 ... 1.0, less the value at 1.0")
        for name, image, landmarks in stages:
            line = lightness_line(image, landmarks, side, lines)
            print(f"  {name:24s}", " ".join(f"{value:+5.1f}" for value in line))


if __name__ == "__main__":
    main(sys.argv[1:])
