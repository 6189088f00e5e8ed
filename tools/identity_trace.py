"""Trace a photo pair's identity margin through the mesh engine's parts and against other
references of the source (see BENCHMARKS.md "The shouting photo's identity traced" under
Expression).

    python tools/identity_trace.py SOURCE_PHOTO TARGET_CLIP [VARIANT ...]

TARGET_CLIP: the clip as `benchmarks/quality.py` trimmed it (its `targets/` folder), so
the frames are those of the quality run. Each VARIANT, `name` or `name:key=value,...`,
swaps the clip in process (the output in a temporary folder) with these changes from the
defaults: `mesh.FIELD=VALUE` (MeshEngineConfig), `comp.FIELD=VALUE` (CompositeConfig),
`drop=REGION+REGION` (expression-line regions whose weights are zeroed, e.g. `cheeks`),
`source=closed` (the engine's source is the photo with its mouth closed, below). A
variant named `main` with no changes is the engine as it is.

Every output frame is described as `facedub eval` does (landmarks in video mode, dlib on
MediaPipe's five points); the target person is the mean of the clip's own descriptors
(within 0.003 of the eval's on the shouting pair). Printed per variant, per source
reference, the mean distance to the source and to the target, the mean margin
d(source) - d(target) (negative: nearer the source) and the share of frames nearer the
source:
- `photo`: the photo as it is (the eval's reference);
- `closed`: the photo with its mouth closed (`closed_mouth`: the jaw and lower lip raised
  by the gap between the inner lips over the landmark mesh, fading to a fifth at the
  face's sides; the mouth interior folds away), a neutral-mouthed rendering of the same
  person;
- `face`: either, described with everything outside the face oval (forehead included)
  grey in source, target and output alike: what the descriptor reads of the face alone.
Writes the closed-mouth rendering to /tmp/identity_trace_closed.png (a person's photo:
never commit it).

    python tools/identity_trace.py regions SOURCE TARGET_CLIP SWAPPED [FRAMES]

measures which region of the output face the identity margin rests on, on eval's own
path per frame (tools/identity_regions.py).
"""

from __future__ import annotations

import ast
import sys
import tempfile
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

CLOSED_PATH = Path("/tmp/identity_trace_closed.png")
SIDE_FLOOR = 0.2  # share of the jaw's raise left at the face's sides (the hinge moves less)


def closed_mouth(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """`image` (H, W, 3) uint8 RGB of one face with MediaPipe `landmarks` (478, 2+) in its
    pixels, its mouth closed: every point below the upper inner lip (13) is raised by up
    to the gap to the lower inner lip (14), wholly from the lower inner lip down, less
    toward the face's sides; warped piecewise affine over the landmark mesh, and outside
    it (neck, hair) by a smooth field of the same moves."""
    from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
    from facedub.engines.mesh_warp import rasterize, source_maps

    points = np.asarray(landmarks, dtype=np.float64)
    upper, lower = points[13, :2], points[14, :2]
    gap = upper - lower
    down = -gap / np.linalg.norm(gap)
    across = np.array([down[1], -down[0]])
    half_mouth = np.linalg.norm(points[61, :2] - points[291, :2]) / 2
    half_face = np.linalg.norm(points[234, :2] - points[454, :2]) / 2

    def raised(at: np.ndarray) -> np.ndarray:
        below = np.clip((at[:, :2] - upper) @ down / np.linalg.norm(gap), 0.0, 1.0)
        side = np.abs((at[:, :2] - (upper + lower) / 2) @ across)
        centre = np.clip(1 - (1 - SIDE_FLOOR) * (side - half_mouth) / (half_face - half_mouth),
                         SIDE_FLOOR, 1.0)
        return gap[None, :] * (below * centre)[:, None]

    moved = points.copy()
    moved[:, :2] += raised(points)
    height, width = image.shape[:2]
    size = max(height, width)
    topology = mesh_topology()
    raster = rasterize(mesh_vertices(moved), mesh_depths(moved), size, topology, scale=1.0)
    map_x, map_y = source_maps(raster, mesh_vertices(points), topology.triangles, size)
    map_x, map_y = map_x[:height, :width], map_y[:height, :width]
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    sigma = 0.25 * half_face
    field = np.zeros((height, width, 2), np.float32)
    weights = np.full((height, width), 1e-3, np.float32)  # far from the face: no move
    for (x, y), move in zip(moved[:468, :2], raised(points)[:468], strict=True):
        weight = np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * sigma**2))
        field += weight[..., None] * move.astype(np.float32)
        weights += weight
    field /= weights[..., None]
    inside = map_x >= 0
    from_x = np.where(inside, map_x, columns - field[..., 0])
    from_y = np.where(inside, map_y, rows - field[..., 1])
    closed: np.ndarray = cv2.remap(image, from_x, from_y, cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REFLECT)
    return closed


def face_only(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """`image` grey (128) outside the face oval with its forehead (`faces.masks`)."""
    from facedub.faces.masks import face_oval

    height, width = image.shape[:2]
    oval = face_oval(np.asarray(landmarks), max(height, width))[:height, :width]
    grey = np.full_like(image, 128)
    grey[oval > 0] = image[oval > 0]
    return grey


def described(images: Any, video: bool) -> tuple[np.ndarray, np.ndarray]:
    """(N, 128) descriptors of each image's first face as it is and face only."""
    from facedub.faces.identity import IdentityEncoder
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

    encoder = IdentityEncoder()
    plain, face = [], []
    with FaceAnalyser(max_faces=1, video=video, model_path=resolve_landmarker_model()) as analyser:
        for index, image in enumerate(images):
            found = analyser.analyse(image, index / 25.0)
            if found:
                plain.append(encoder.describe(image, found[0].landmarks))
                face.append(encoder.describe(face_only(image, found[0].landmarks),
                                             found[0].landmarks))
    return np.array(plain), np.array(face)


def swapped(source: Path, target: Path, changes: dict[str, str], out: Path) -> None:
    """Swap `target` with the mesh engine and `changes` (see the module docstring)."""
    import facedub.engines.mesh as mesh
    from facedub.composite.compositor import CompositeConfig
    from facedub.engines.mesh import MeshEngineConfig
    from facedub.engines.mesh_expression_regions import LineWeights
    from facedub.engines.registry import EngineRequest, open_engine
    from facedub.locations import config_dir
    from facedub.swap import SwapConfig, swap

    engine_config, composite = MeshEngineConfig(), CompositeConfig()
    for key, text in changes.items():
        part, _, name = key.partition(".")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        if part == "mesh":
            engine_config = replace(engine_config, **{name: value})
        elif part == "comp":
            composite = replace(composite, **{name: value})
    dropped = set(changes.get("drop", "").split("+")) - {""}
    weights = mesh.region_weights

    def without(*args: Any, **kwargs: Any) -> LineWeights:
        found = weights(*args, **kwargs)
        zero = lambda per: {n: 0.0 if n in dropped else w for n, w in per.items()}  # noqa: E731
        return LineWeights(zero(found.fade), zero(found.deepen), zero(found.lift))

    mesh.region_weights = without  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as work:
            request = EngineRequest(work_dir=Path(work), source=source, mesh=engine_config)
            with closing(open_engine("mesh", request)) as engine:
                swap(target, engine, out, SwapConfig(work_dir=Path(work), config_dir=config_dir(),
                                                     composite=composite))
    finally:
        mesh.region_weights = weights


def main(argv: list[str]) -> None:
    if argv[:1] == ["regions"]:
        from identity_regions import main as regions_main

        regions_main(argv[1:])
        return
    from facedub import media
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

    source, target, *variants = argv
    photo = media.read_photo(Path(source))
    with FaceAnalyser(max_faces=1, video=False, model_path=resolve_landmarker_model()) as analyser:
        landmarks = analyser.analyse(photo)[0].landmarks
    closed = closed_mouth(photo, landmarks)
    cv2.imwrite(str(CLOSED_PATH), cv2.cvtColor(closed, cv2.COLOR_RGB2BGR))
    (photo_plain, photo_face), (closed_plain, closed_face) = (
        described([image], video=False) for image in (photo, closed))
    target_plain, target_face = described((f.image for f in media.iter_frames(Path(target))),
                                          video=True)
    people = {"plain": target_plain.mean(axis=0), "face": target_face.mean(axis=0)}
    references = {("photo", "plain"): photo_plain[0], ("photo", "face"): photo_face[0],
                  ("closed", "plain"): closed_plain[0], ("closed", "face"): closed_face[0]}
    print(f"photo to closed {np.linalg.norm(photo_plain[0] - closed_plain[0]):.3f} "
          f"(face only {np.linalg.norm(photo_face[0] - closed_face[0]):.3f}); to the target "
          f"photo {np.linalg.norm(photo_plain[0] - people['plain']):.3f}, closed "
          f"{np.linalg.norm(closed_plain[0] - people['plain']):.3f}")
    for variant in variants or ["main"]:
        name, _, spec = variant.partition(":")
        changes = dict(item.split("=", 1) for item in spec.split(",") if item)
        engine_source = Path(source)
        with tempfile.TemporaryDirectory() as folder:
            if changes.pop("source", "") == "closed":
                engine_source = Path(folder) / "closed.png"
                cv2.imwrite(str(engine_source), cv2.cvtColor(closed, cv2.COLOR_RGB2BGR))
            out = Path(folder) / "out.mp4"
            swapped(engine_source, Path(target), changes, out)
            outputs = dict(zip(("plain", "face"), described(
                (f.image for f in media.iter_frames(out)), video=True), strict=True))
        for (reference, kind), descriptor in references.items():
            to_source = np.linalg.norm(outputs[kind] - descriptor, axis=1)
            to_target = np.linalg.norm(outputs[kind] - people[kind], axis=1)
            print(f"{name:12s} {reference:6s} {kind:5s} d(source) {to_source.mean():.3f} "
                  f"d(target) {to_target.mean():.3f} margin "
                  f"{np.mean(to_source - to_target):+.3f} nearer "
                  f"{np.mean(to_source < to_target):.0%} ({len(to_source)} frames)")


if __name__ == "__main__":
    main(sys.argv[1:])
