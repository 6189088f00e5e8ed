"""How dark a swap's brows are along their length against the target's: the brows' outer,
middle and inner thirds, per frame.

    PYTHONPATH=src python tools/brow_thirds.py TARGET SWAPPED [--first 88] [--last 98] [--step 2]

TARGET and SWAPPED are videos of the same frames (a `benchmarks/quality.py` run's trimmed
target and its `swapped.mp4`). The target's landmarks (the largest face) place each brow;
along it, at BROW_SAMPLES points between its upper and lower contours, the darkest CIELAB
lightness across its thickness (from a pixel above the upper contour to two below the lower:
a brow's hairs reach past MediaPipe's contours) and that pixel's chroma; each third's median.
Prints a row per frame and brow (target L, swap L, swap - target, per third) and the means
of "inner - rest" (the inner third's lightness less the mean of the other two's, negative: a
darker head): a swap whose heads are as dark as the target's brows but whose middles and
tails are lighter shows two dark smudges where the target has even arcs (occlusion-mic 88-98:
BENCHMARKS.md, fifty-second round).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from facedub import media
from facedub.composite.color import to_lab
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

# MediaPipe's brow contours, outer end to inner head: the person's right brow, then left.
UPPER = ((70, 63, 105, 66, 107), (300, 293, 334, 296, 336))
LOWER = ((46, 53, 52, 65, 55), (276, 283, 282, 295, 285))
BROW_SAMPLES = 15
# The skin above a brow: this many eye-corner distances over its upper contour (clear of a
# raised brow's hairs, under the forehead's first lines at 160 px).
SKIN_ABOVE = (0.10, 0.125, 0.15)


def brow_thirds(lab: np.ndarray, landmarks: np.ndarray, side: int
                ) -> tuple[np.ndarray, np.ndarray, float]:
    """(3,) each: the brow's darkest lightness across its thickness and that pixel's chroma,
    medians over its outer, middle and inner thirds; and the skin's lightness above the brow
    (SKIN_ABOVE eye distances over its upper contour, the median); `lab` (H, W, 3) float32
    CIELAB, `landmarks` (478, 2+) in its pixels, `side` 0 (the person's right) or 1."""
    upper, lower = landmarks[list(UPPER[side]), :2], landmarks[list(LOWER[side]), :2]
    along, knots = np.linspace(0.0, 1.0, BROW_SAMPLES), np.linspace(0.0, 1.0, len(upper))
    tops = np.stack([np.interp(along, knots, upper[:, k]) for k in (0, 1)], axis=1)
    bottoms = np.stack([np.interp(along, knots, lower[:, k]) for k in (0, 1)], axis=1)
    darkest: list[float] = []
    chroma: list[float] = []
    skin: list[float] = []
    spacing = float(np.linalg.norm(landmarks[33, :2] - landmarks[263, :2]))
    for top, bottom in zip(tops, bottoms, strict=True):
        thickness = float(np.linalg.norm(bottom - top))
        down = (bottom - top) / max(thickness, 1e-6)
        values = np.array([cv2.getRectSubPix(lab, (1, 1), tuple(float(v) for v in top + down * k))
                           [0, 0] for k in np.linspace(-1.0, thickness + 2.0, 9)])
        index = int(values[:, 0].argmin())
        darkest.append(values[index, 0])
        chroma.append(float(np.hypot(values[index, 1], values[index, 2])))
        skin.extend(cv2.getRectSubPix(lab, (1, 1), tuple(float(v) for v in
                                                         top - down * k * spacing))[0, 0, 0]
                    for k in SKIN_ABOVE)
    parts = np.array_split(np.arange(BROW_SAMPLES), 3)
    return (np.array([np.median(np.asarray(darkest)[p]) for p in parts]),
            np.array([np.median(np.asarray(chroma)[p]) for p in parts]), float(np.median(skin)))


def _inner_less_rest(thirds: np.ndarray) -> float:
    return float(thirds[2] - thirds[:2].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("swapped", type=Path)
    parser.add_argument("--first", type=int, default=88)
    parser.add_argument("--last", type=int, default=98)
    parser.add_argument("--step", type=int, default=2)
    args = parser.parse_args()
    wanted = set(range(args.first, args.last + 1, args.step))
    swapped = {frame.index: frame.image
               for frame in media.iter_frames(args.swapped, indices=wanted)
               if frame.index in wanted}
    heads: dict[str, list[float]] = {"target": [], "swap": []}
    print("frame brow  target L o/m/i      swap L o/m/i        swap - target      chroma t/s"
          "  skin L t/s")
    with FaceAnalyser(max_faces=2, model_path=resolve_landmarker_model()) as analyser:
        for frame in media.iter_frames(args.target, indices=wanted):
            if frame.index not in wanted:
                continue
            faces = analyser.analyse(frame.image, frame.time)
            if not faces:
                print(f"{frame.index:5d} no face")
                continue
            face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
            landmarks = np.asarray(face.landmarks)
            labs = {"target": to_lab(frame.image), "swap": to_lab(swapped[frame.index])}
            for side, name in enumerate(("R", "L")):
                (t_l, t_c, t_skin), (s_l, s_c, s_skin) = (brow_thirds(labs[k], landmarks, side)
                                                          for k in ("target", "swap"))
                heads["target"].append(_inner_less_rest(t_l))
                heads["swap"].append(_inner_less_rest(s_l))
                print(f"{frame.index:5d} {name}    " + "/".join(f"{v:4.1f}" for v in t_l)
                      + "   " + "/".join(f"{v:4.1f}" for v in s_l)
                      + "   " + "/".join(f"{v:+5.1f}" for v in s_l - t_l)
                      + f"   {t_c.mean():4.1f}/{s_c.mean():4.1f}"
                      + f"   {t_skin:4.1f}/{s_skin:4.1f}")
    for key, values in heads.items():
        if values:
            print(f"{key}: inner - rest {np.mean(values):+.1f} L (mean of {len(values)} brows)")


if __name__ == "__main__":
    main()
