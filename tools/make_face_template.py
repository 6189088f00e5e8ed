"""Build the canonical frontal face template (src/facedub/data/face_template.json).

The template is the Procrustes mean of MediaPipe's 478 landmarks (x, y, z) over near-frontal
faces of several people. It defines the aligned crop (see facedub.faces.align) and the frontal
reference for head pose. Run by hand when the landmark model changes:

    python tools/make_face_template.py ../shared/data/faces/{clip,still}_*
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facedub import media
from facedub.faces.geometry import umeyama
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faces.regions import mesh_regions

FRONTAL_LIMIT_DEGREES = 6.0


def frontal_faces(paths: list[Path], stride: int) -> list[np.ndarray]:
    shapes = []
    model = resolve_landmarker_model()  # once, not per clip
    for path in paths:
        with FaceAnalyser(max_faces=1, video=not media.is_photo_path(path),
                          model_path=model) as analyser:
            for frame in media.iter_frames(path):
                if frame.index % stride:
                    continue
                faces = analyser.analyse(frame.image, frame.time)
                if not faces:
                    continue
                pose = faces[0].pose
                if max(abs(pose.yaw), abs(pose.pitch), abs(pose.roll)) < FRONTAL_LIMIT_DEGREES:
                    shapes.append(faces[0].landmarks.astype(np.float64))
    return shapes


def procrustes_mean(shapes: list[np.ndarray], iterations: int = 10) -> np.ndarray:
    mean = shapes[0] - shapes[0].mean(axis=0)
    for _ in range(iterations):
        aligned = []
        for shape in shapes:
            transform = umeyama(shape, mean)
            aligned.append(shape @ transform[:3, :3].T + transform[:3, 3])
        mean = np.mean(aligned, axis=0)
        mean -= mean.mean(axis=0)
        mean /= np.sqrt((mean[:, :2] ** 2).sum(axis=1).mean())
    return mean


def normalise(template: np.ndarray) -> np.ndarray:
    """Centre on the eyes' midpoint, unit distance between the eye centres, eyes level."""
    regions = mesh_regions()
    right_eye = template[regions.right_eye].mean(axis=0)
    left_eye = template[regions.left_eye].mean(axis=0)
    centre = (right_eye + left_eye) / 2
    across = left_eye[:2] - right_eye[:2]
    angle = np.arctan2(across[1], across[0])
    cos, sin = np.cos(-angle), np.sin(-angle)
    rotation = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
    result = (template - centre) @ rotation.T
    return result / np.linalg.norm(across)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("media", nargs="+", type=Path)
    parser.add_argument("--stride", type=int, default=5)
    parser.add_argument("-o", "--out", type=Path,
                        default=Path(__file__).parents[1] / "src/facedub/data/face_template.json")
    args = parser.parse_args()
    shapes = frontal_faces(args.media, args.stride)
    if len(shapes) < 20:
        raise SystemExit(f"only {len(shapes)} frontal faces found; give more media")
    template = normalise(procrustes_mean(shapes))
    args.out.write_text(json.dumps({
        "format": "facedub-face-template",
        "version": 1,
        "faces_averaged": len(shapes),
        "units": "x right, y down, z away from the camera; eye centres 1 apart",
        "landmarks": np.round(template, 5).tolist(),
    }) + "\n")
    print(f"wrote {args.out} from {len(shapes)} frontal faces")


if __name__ == "__main__":
    main()
