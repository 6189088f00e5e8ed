"""Shared fixtures: the real test media beside the repo, and facesets extracted once per
test session (extraction is the slow part of most tests)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.extract import extract
from facedub.extract.config import ExtractConfig
from facedub.faceset import Faceset
from target_support import target_from_frame
from xdist_groups import SHARED_EXTRACTION_FIXTURES, in_handing_order, xdist_group_of

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces"

@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the test ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test gets its file's xdist group (`-n 2 --dist loadgroup` in pyproject.toml):
    a file's module fixtures are then made by one worker only, never once in each. A file
    any of whose tests takes a shared faceset fixture is in the shared extraction's group
    whole. The longest groups come first (`handing_order`): the controller hands groups
    out in the order the workers collected them."""
    shared = {item.path for item in items
              if SHARED_EXTRACTION_FIXTURES & set(getattr(item, "fixturenames", ()))}
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = xdist_group_of(item.path, item.path in shared)
            item.add_marker(pytest.mark.xdist_group(group))
    items[:] = in_handing_order(items)


class _GroupsInNodeIds:
    """pytest-xdist 3.8's worker puts each test's group into its node id (`test@group`,
    which the controller's `--dist loadgroup` splits into work units) by setting
    `item._nodeid`; pytest 9 keeps the id in `item._id` (a `NodeId`), so the suffix was
    lost and every test was sent alone, as `--dist load` sends them (fifty-second round:
    one file's tests ran on both workers, each making the file's module fixtures and the
    D3/D12 extraction). After xdist's hook, the id it meant is put where pytest 9 reads
    it; where xdist's own setting works (pytest 8), nothing is left to do."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            grouped = getattr(item, "_nodeid", None)
            if isinstance(grouped, str) and grouped != item.nodeid:
                # pytest 9's own type, imported only where pytest 9 dropped the id (pytest 8
                # has no `_pytest.nodeid`, and reads `_nodeid` itself).
                from _pytest.nodeid import NodeId

                item._id = NodeId.parse(grouped)  # type: ignore[attr-defined]


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_GroupsInNodeIds(), "facedub-xdist-groups-in-node-ids")


@pytest.fixture(scope="session", autouse=True)
def _private_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never touch the user's own signing key or analysis cache: the config and
    work folders point into the session's temporary folder (subprocesses inherit this)."""
    folder = tmp_path_factory.mktemp("facedub-home")
    names = {"FACEDUB_CONFIG_DIR": folder / "config", "FACEDUB_WORK_DIR": folder / "work"}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: str(path) for name, path in names.items()})
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def _hangups_delivered() -> Iterator[None]:
    """Stop signals are the default's in every test and the commands they start: a run
    started under `nohup` ignores SIGHUP, every process it starts inherits that, and
    facedub rightly keeps a hang-up ignored there, so the tests that send one (a stop by
    SIGHUP says so, exit 129) failed for how the run was started, not for facedub."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGHUP, previous)


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """../shared/data/faces; tests that need it skip where it is absent (a fresh clone)."""
    if not SHARED_FACES.is_dir():
        pytest.skip(f"test media not found at {SHARED_FACES} (CI always has it)")
    return SHARED_FACES


@pytest.fixture(scope="session")
def extracted(faces_dir: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Faceset]:
    """`extracted("clip.mp4", max_frames=40, every=2)` extracts once per session and
    returns the faceset; the same arguments return the cached one."""
    cache: dict[tuple[object, ...], Faceset] = {}

    def run(name: str, **options: object) -> Faceset:
        key = (name, *sorted(options.items()))
        if key not in cache:
            out = tmp_path_factory.mktemp("faceset")
            config = ExtractConfig(**options)  # type: ignore[arg-type]
            cache[key] = extract(faces_dir / name, out / "faces", config).faceset
        return cache[key]

    return run


@pytest.fixture(scope="session")
def first_target_face(extracted: Callable[..., Faceset], faces_dir: Path
                      ) -> Callable[..., TargetFace]:
    """`first_target_face("clip.mp4", 256)`: the clip's first face aligned at that size as
    the swap aligns it, as an engine's target (track 0); `person=True` gives it the
    face's identity descriptor as the target person."""
    from facedub import media

    def face(name: str, size: int, person: bool = False) -> TargetFace:
        record = extracted(name, max_frames=1, crop_size=size).faces_of()[0]
        frame = next(media.iter_frames(faces_dir / name))
        return target_from_frame(frame.image, record.frame_landmarks, size, record.pose,
                                 record.blendshapes,
                                 person=np.asarray(record.descriptor) if person else None)

    return face


@pytest.fixture(scope="session")
def call_face(faces_dir: Path) -> Callable[[int], TargetFace]:
    """`call_face(29)`: the boy's face (the larger of the two-person video call's) on that
    frame, aligned at 256 px as the swap aligns it, as an engine's target (track 0)."""
    from facedub import media
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

    size = 256

    def face(index: int) -> TargetFace:
        frames = media.iter_frames(faces_dir / "clip_ghost_two_person_videocall.mp4")
        frame = next(f for i, f in enumerate(frames) if i == index)
        with FaceAnalyser(max_faces=2, video=False,
                          model_path=resolve_landmarker_model()) as analyser:
            found = analyser.analyse(frame.image)
        largest = max(found, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        return target_from_frame(frame.image, largest.landmarks, size, largest.pose,
                                 largest.blendshapes)

    return face


@pytest.fixture(scope="session")
def short_clip(faces_dir: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, float], Path]:
    """`short_clip("clip.mp4", 2.0)`: the first seconds of a shared clip, audio included,
    written once per session to a temporary folder (tests stay fast)."""
    from facedub import media

    cache: dict[tuple[str, float], Path] = {}

    def run(name: str, seconds: float) -> Path:
        key = (name, seconds)
        if key not in cache:
            source = faces_dir / name
            info = media.probe(source)
            out = tmp_path_factory.mktemp("clip") / f"{source.stem}_{seconds:g}s.mp4"
            with media.VideoWriter(out, info.width, info.height, info.fps, crf=12,
                                   preset="veryfast", audio_from=source,
                                   audio_end=seconds) as writer:
                for frame in media.iter_frames(source):
                    if frame.time >= seconds - 1e-6:
                        break
                    writer.write(frame.image, frame.time)
            cache[key] = out
        return cache[key]

    return run


@pytest.fixture(scope="session")
def aligned_face() -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    """`aligned_face(image, size)`: the image's one face aligned at `size` ("whole"
    coverage): its crop and its landmarks in crop pixels."""
    from facedub.faces.align import align_face
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

    def aligned(image: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        with FaceAnalyser(max_faces=1, video=False,
                          model_path=resolve_landmarker_model()) as analyser:
            found = analyser.analyse(image, 0.0)
        face = align_face(image, found[0].landmarks, size, "whole")
        return face.image, face.face_landmarks

    return aligned


@pytest.fixture(scope="session")
def blendshapes() -> Callable[..., np.ndarray]:
    """`blendshapes(jawOpen=0.3, ...)`: a (52,) float32 blendshape vector, 0 but for the
    named values."""
    from facedub.faces.landmarks import BLENDSHAPE_NAMES

    def vector(**values: float) -> np.ndarray:
        shapes = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
        for name, value in values.items():
            shapes[BLENDSHAPE_NAMES.index(name)] = value
        return shapes

    return vector


@pytest.fixture(scope="session")
def moustache_ends() -> Callable[..., np.ndarray]:
    """`moustache_ends(landmarks, size)`: a (size, size) uint8 mask, 1 on two strokes
    beside the mouth corners of `landmarks` (478, 2+, pixels of a size-px crop) where a
    moustache's ends would be: painted dark, the target's own hair at its corners, which
    no engine change may bring onto a smooth source."""
    import cv2

    def strokes(landmarks: np.ndarray, size: int = 256) -> np.ndarray:
        points = np.asarray(landmarks)[:, :2]
        width = float(np.linalg.norm(points[61] - points[291]))
        mask = np.zeros((size, size), dtype=np.uint8)
        for corner, side in ((61, -1), (291, 1)):
            x, y = points[corner]
            start = (round(x + side * 0.08 * width), round(y - 0.05 * width))
            end = (round(x + side * 0.18 * width), round(y + 0.2 * width))
            cv2.line(mask, start, end, 1, max(2, round(0.05 * width)))
        return mask

    return strokes


@pytest.fixture(scope="session")
def benchmark_module() -> Callable[[str], ModuleType]:
    """`benchmark_module("quality")`: benchmarks/quality.py loaded as a module named
    "quality_benchmark" (registered: dataclasses look their module up by name). The
    benchmarks folder is on sys.path only while it loads, as when run as a script (it
    finds `_measure`); it is not left there to shadow other modules."""
    import importlib.util

    folder = Path(__file__).resolve().parents[1] / "benchmarks"

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"{name}_benchmark",
                                                      folder / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        with pytest.MonkeyPatch.context() as patch:
            patch.syspath_prepend(str(folder))
            spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def aligned_frames(faces_dir: Path) -> Callable[[str, int], list[tuple[float, np.ndarray,
                                                                       np.ndarray]]]:
    """`aligned_frames(clip, count)`: the shared clip's first `count` frames with a face,
    aligned at 512 px as the compositor's fine crop: (time, crop, landmarks in it). Made
    once a session for each clip and count."""
    from facedub import media
    from facedub.faces.align import align_face
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

    made: dict[tuple[str, int], list[tuple[float, np.ndarray, np.ndarray]]] = {}

    def frames(clip: str, count: int) -> list[tuple[float, np.ndarray, np.ndarray]]:
        if (clip, count) not in made:
            out: list[tuple[float, np.ndarray, np.ndarray]] = []
            with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
                for frame in media.iter_frames(faces_dir / clip):
                    if len(out) == count:
                        break
                    faces = analyser.analyse(frame.image, frame.time)
                    if faces:
                        aligned = align_face(frame.image, faces[0].landmarks, 512, "whole")
                        out.append((frame.time, aligned.image, aligned.face_landmarks))
            made[(clip, count)] = out
        return made[(clip, count)]

    return frames


@pytest.fixture(scope="session")
def above_brows() -> Callable[..., tuple[slice, slice]]:
    """`above_brows(landmarks, rows, columns)`: the box (rows, columns slices) above the
    brows' top, `rows` (near, far) in eye distances above it, `columns` (left, right) in
    eye distances from the middle between the inner brows."""
    from facedub.faces.regions import eye_distance, mesh_regions

    def box(landmarks: np.ndarray, rows: tuple[float, float],
            columns: tuple[float, float]) -> tuple[slice, slice]:
        regions = mesh_regions()
        right, left = landmarks[regions.right_eyebrow], landmarks[regions.left_eyebrow]
        unit = eye_distance(landmarks)
        top = float(min(right[:, 1].min(), left[:, 1].min()))
        middle = float(right[:, 0].max() + left[:, 0].min()) / 2.0
        return (slice(round(top - rows[1] * unit), round(top - rows[0] * unit)),
                slice(round(middle + columns[0] * unit), round(middle + columns[1] * unit)))

    return box


@pytest.fixture(scope="session")
def turned_template() -> Callable[[float, int], np.ndarray]:
    """`turned_template(yaw_degrees, size)`: (478, 3) float32, the face template turned by
    `yaw_degrees` about the vertical axis (its z grows away from the camera), seen straight
    on, in the pixels of a size-px crop."""
    import math

    from facedub.faces.template import face_template

    def turned(yaw_degrees: float, size: int) -> np.ndarray:
        template = face_template().astype(np.float64)
        angle = math.radians(yaw_degrees)
        x = template[:, 0] * math.cos(angle) + template[:, 2] * math.sin(angle)
        z = -template[:, 0] * math.sin(angle) + template[:, 2] * math.cos(angle)
        points = np.stack([x, template[:, 1], z], axis=1)
        return np.concatenate([points[:, :2] * size * 0.33 + size / 2,
                               points[:, 2:] * size * 0.33], axis=1).astype(np.float32)

    return turned
