"""The on-disk faceset: what `extract` writes and every later stage reads.

Layout of a faceset folder (format version 1, JSON and PNG only, never pickle):

    faceset.json   format, version, crop size and coverage, the source file and its
                   sha256, counts, persons (face counts and mean identity descriptors),
                   the chosen person, blendshape names, extraction settings
                   and the frames where a new shot starts
    faces.jsonl    one record per face (see FaceRecord), in frame order
    faces/*.png    aligned crops, RGB
    masks/*.png    soft face masks in crop coordinates, 8-bit grey
    progress.jsonl while extraction runs: one line per analysed frame, for resuming

The reader validates everything it loads and says which file and line is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from facedub.errors import FacedubError, field_problem
from facedub.faces.align import COVERAGES, Coverage
from facedub.faces.identity import DESCRIPTOR_SIZE
from facedub.faces.landmarks import NUM_BLENDSHAPES, NUM_LANDMARKS
from facedub.fsutil import read_json_object, write_json_atomic
from facedub.types import Box, HeadPose, box_area

FORMAT_NAME = "facedub-faceset"
FORMAT_VERSION = 1
META_FILE = "faceset.json"
RECORDS_FILE = "faces.jsonl"
PROGRESS_FILE = "progress.jsonl"
FACES_DIR = "faces"
MASKS_DIR = "masks"
TEMPLATE_NAME = "facedub-face-template v1"


@dataclass(frozen=True)
class FaceRecord:
    """One face of the faceset. Arrays as in facedub.types: `frame_landmarks` (478, 3) in
    frame pixels, `face_from_frame` 2x3, `blendshapes` (52,), `descriptor` (128,) or None
    on frames where identity was not sampled."""

    frame: int
    time: float
    source: str  # file name the frame came from (matters for folders of photos)
    track: int
    person: int
    box: Box
    frame_landmarks: np.ndarray
    face_from_frame: np.ndarray
    pose: HeadPose
    blendshapes: np.ndarray
    descriptor: np.ndarray | None
    sharpness: float
    image: str  # path of the crop, relative to the faceset folder
    mask: str


@dataclass(frozen=True)
class PersonSummary:
    """One person of the faceset: face, frame and track counts, and the mean identity
    descriptor (128,) float32 (None: never described)."""

    id: int
    faces: int
    frames: int
    tracks: int
    descriptor: np.ndarray | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "faces": self.faces, "frames": self.frames,
                "tracks": self.tracks, "descriptor": None if self.descriptor is None
                else np.round(self.descriptor.astype(np.float64), 6).tolist()}


FOLDER_KIND = "folder"  # an input folder of photos (`extract.MediaSource.kind`)


@dataclass(frozen=True)
class FacesetMeta:
    """faceset.json, typed. `complete` is False while extraction runs (then `persons`,
    `person`, `cuts` and `frames_analysed` are not final). `resumable` holds the
    extraction settings a resumed run must match."""

    crop_size: int
    coverage: Coverage
    source_name: str
    source_sha256: str
    # "video", or "photo": every face from a still image, one photo or a folder of them.
    # Never "folder": `__post_init__` turns an input folder's kind into "photo" (why there).
    source_kind: str
    source_frames: int
    frames_analysed: int
    person: int  # the chosen person
    persons: tuple[PersonSummary, ...]
    blendshape_names: tuple[str, ...]
    resumable: dict[str, Any]
    max_frames: int | None
    has_crops: bool  # False for an analysis-only faceset (landmarks, no images)
    cuts: frozenset[int]  # frames where a new shot starts (every photo is one)
    complete: bool = True
    reference_distance: float | None = None  # identity distance to a reference photo
    tool: str = ""  # "facedub <version>" that wrote it
    template: str = TEMPLATE_NAME

    def __post_init__(self) -> None:
        """A "folder" `source_kind` is made "photo" here, deliberately, whoever builds the
        meta: extract passes its input's kind (`extract.open_source`: "folder" for a
        folder of photos, `extract/run.py` `_new_meta`), and facesets written before the
        forty-ninth round carry "folder" in faceset.json, so both a new extraction and
        every load (`from_json`) read "photo". Why: the engines' photo-only rules (a held
        object, the far wing's own share, the open glance; gated on "photo") read a
        still's face, and a photo given in a folder of its own is the same photo (its swap
        was not the same before: every frame of expr-grimace's first second moved). A
        folder of many stills, or of a video's exported frames, gets those rules too."""
        if self.source_kind == FOLDER_KIND:
            object.__setattr__(self, "source_kind", "photo")

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "tool": self.tool,
            "complete": self.complete,
            "crop_size": self.crop_size,
            "crops": self.has_crops,
            "coverage": self.coverage,
            "template": self.template,
            "source": {"name": self.source_name, "sha256": self.source_sha256,
                       "kind": self.source_kind, "frames": self.source_frames},
            "settings": {"resumable": self.resumable, "max_frames": self.max_frames},
            "blendshape_names": list(self.blendshape_names),
            "frames_analysed": self.frames_analysed,
            "persons": [person.to_json() for person in self.persons],
            "person": self.person,
            "person_reference": None if self.reference_distance is None
            else {"distance": round(self.reference_distance, 4)},
            "cuts": sorted(self.cuts),
        }


@dataclass(frozen=True)
class Faceset:
    root: Path
    meta: FacesetMeta
    records: tuple[FaceRecord, ...]

    def person_descriptor(self) -> np.ndarray | None:
        """The chosen person's mean identity descriptor (128,), None where never described."""
        return next((person.descriptor for person in self.meta.persons
                     if person.id == self.meta.person), None)

    def faces_of(self, person: int | None = None) -> tuple[FaceRecord, ...]:
        """Records of one person; by default the chosen one."""
        wanted = self.meta.person if person is None else person
        return tuple(record for record in self.records if record.person == wanted)

    def load_image(self, record: FaceRecord) -> np.ndarray:
        """The aligned crop, (S, S, 3) uint8 RGB."""
        self._require_crops()
        return self._sized(_read_png(self.root / record.image, color=True), record.image)

    def load_mask(self, record: FaceRecord) -> np.ndarray:
        """The soft face mask, (S, S) float32 in [0, 1]."""
        self._require_crops()
        mask = self._sized(_read_png(self.root / record.mask, color=False), record.mask)
        return mask.astype(np.float32) / 255.0

    def _sized(self, pixels: np.ndarray, name: str) -> np.ndarray:
        """`pixels` if they are the faceset's crop size. Landmarks and masks are read at
        that size: a crop of another (an edited faceset.json, a face image replaced) was
        resized and trained on against landmarks placed for the wrong size."""
        size = self.meta.crop_size
        if pixels.shape[:2] != (size, size):
            height, width = pixels.shape[:2]
            raise FacedubError(f"{self.root / name}: {width} x {height} px, but the "
                               f"faceset's crops are {size} px (faceset.json); the faceset "
                               "is damaged, extract again")
        return pixels


    def _require_crops(self) -> None:
        if not self.meta.has_crops:
            raise FacedubError(f"{self.root}: this faceset holds landmarks only, no face "
                               "images; extract it again without --no-crops")


def largest_face_per_frame(records: Iterable[FaceRecord]) -> dict[int, FaceRecord]:
    """Frame index -> its largest record (a person seen twice in one frame, e.g. in a
    mirror, is swapped and measured once: on the larger face)."""
    by_frame: dict[int, FaceRecord] = {}
    for record in records:
        kept = by_frame.get(record.frame)
        if kept is None or box_area(record.box) > box_area(kept.box):
            by_frame[record.frame] = record
    return by_frame


def is_faceset(path: Path) -> bool:
    return (Path(path) / META_FILE).is_file()


def load_faceset(root: Path, check_files: bool = True) -> Faceset:
    """Read and validate a complete faceset; raise FacedubError naming what is wrong."""
    root = Path(root)
    meta = read_meta(root)
    if not meta.complete:
        raise FacedubError(f"{root}: the faceset is incomplete (extraction was interrupted); "
                           "run the same `facedub extract` command again to finish it")
    records_path = root / RECORDS_FILE
    if not records_path.is_file():
        raise FacedubError(f"{records_path}: missing; the faceset is damaged, extract again")
    records = tuple(_parse_records(records_path, meta, check_files))
    if not records:
        raise FacedubError(f"{records_path}: holds no faces; extract from media with a face")
    # An edited faceset.json naming no person of its own was "0 faces of the chosen
    # person; ... give a video or a folder of more photos" (refine), sending the user to
    # other media.
    held = sorted({record.person for record in records})
    if meta.person not in held:
        raise FacedubError(f"{root / META_FILE}: chooses person {meta.person}, but the "
                           f"faceset holds person {', '.join(map(str, held))}; the faceset "
                           "is damaged, extract again")
    return Faceset(root, meta, records)


def read_meta(root: Path) -> FacesetMeta:
    """faceset.json of a faceset folder, complete or not, validated."""
    path = Path(root) / META_FILE
    # A missing path and a file (a photo given for a faceset) were both "not a faceset
    # (faceset.json missing)": the first sent no one to check the path.
    if not Path(root).exists():
        raise FacedubError(f"{root}: no such folder, so not a faceset; check the path, or "
                           "create one with `facedub extract MEDIA -o FOLDER`")
    if not Path(root).is_dir():
        raise FacedubError(f"{root}: a file, not a faceset folder; create one from it with "
                           f"`facedub extract {root} -o FOLDER`")
    if not path.is_file():
        raise FacedubError(f"{root}: not a faceset ({META_FILE} missing); create one with "
                           "`facedub extract MEDIA -o FOLDER`")
    raw = read_json_object(path, FORMAT_NAME, "faceset", "extract again")
    if raw.get("version") != FORMAT_VERSION:
        raise FacedubError(f"{path}: faceset format version {raw.get('version')} is not "
                           f"supported (this facedub reads {FORMAT_VERSION}); extract again")
    return meta_from_json(raw, path)


def write_meta(root: Path, meta: FacesetMeta) -> None:
    write_json_atomic(Path(root) / META_FILE, meta.to_json())


def record_to_json(record: FaceRecord) -> dict[str, Any]:
    return {
        "frame": record.frame,
        "time": round(record.time, 6),
        "source": record.source,
        "track": record.track,
        "person": record.person,
        "box": [round(v, 2) for v in record.box],
        "landmarks": np.round(record.frame_landmarks.astype(np.float64), 2).tolist(),
        "face_from_frame": record.face_from_frame.tolist(),
        "yaw": round(record.pose.yaw, 3),
        "pitch": round(record.pose.pitch, 3),
        "roll": round(record.pose.roll, 3),
        "blendshapes": np.round(record.blendshapes.astype(np.float64), 5).tolist(),
        "descriptor": None if record.descriptor is None
        else np.round(record.descriptor.astype(np.float64), 6).tolist(),
        "sharpness": round(record.sharpness, 3),
        "image": record.image,
        "mask": record.mask,
    }


def record_from_json(data: dict[str, Any]) -> FaceRecord:
    """Build a record from its JSON form; raise ValueError/KeyError/TypeError if malformed."""
    landmarks = np.asarray(data["landmarks"], dtype=np.float32)
    if landmarks.shape != (NUM_LANDMARKS, 3):
        raise ValueError(f"landmarks have shape {landmarks.shape}, expected ({NUM_LANDMARKS}, 3)")
    matrix = np.asarray(data["face_from_frame"], dtype=np.float64)
    if matrix.shape != (2, 3) or not np.isfinite(matrix).all():
        raise ValueError("face_from_frame must be a finite 2x3 matrix")
    blendshapes = np.asarray(data["blendshapes"], dtype=np.float32)
    if blendshapes.shape != (NUM_BLENDSHAPES,):
        raise ValueError(f"blendshapes have {blendshapes.size} values, expected {NUM_BLENDSHAPES}")
    descriptor = None
    if data["descriptor"] is not None:
        descriptor = np.asarray(data["descriptor"], dtype=np.float32)
        if descriptor.shape != (DESCRIPTOR_SIZE,):
            raise ValueError(f"descriptor has {descriptor.size} values, expected "
                             f"{DESCRIPTOR_SIZE}")
    box = tuple(float(v) for v in data["box"])
    if len(box) != 4:
        raise ValueError("box must have 4 numbers")
    _require_plausible("landmarks", landmarks, MAX_COORDINATE)
    _require_plausible("box", np.asarray(box), MAX_COORDINATE)
    _require_plausible("face_from_frame", matrix, MAX_COORDINATE)
    _require_plausible("blendshapes", blendshapes, 1e3)
    if descriptor is not None:
        _require_plausible("descriptor", descriptor, 1e3)
    pose = HeadPose(float(data["yaw"]), float(data["pitch"]), float(data["roll"]))
    if not all(math.isfinite(v) for v in (pose.yaw, pose.pitch, pose.roll)):
        raise ValueError("pose angles must be finite")
    time, sharpness = float(data["time"]), float(data["sharpness"])
    if not (math.isfinite(time) and math.isfinite(sharpness)):
        raise ValueError("time and sharpness must be finite")
    return FaceRecord(
        frame=int(data["frame"]), time=time, source=str(data["source"]),
        track=int(data["track"]), person=int(data["person"]),
        box=(box[0], box[1], box[2], box[3]), frame_landmarks=landmarks,
        face_from_frame=matrix, pose=pose, blendshapes=blendshapes, descriptor=descriptor,
        sharpness=sharpness, image=_inside_faceset(data["image"], FACES_DIR),
        mask=_inside_faceset(data["mask"], MASKS_DIR))


# Frame pixels: no video is a million pixels wide; larger values (1e9, inf) only come from a
# damaged or crafted file, and make polygon filling and SVD run for minutes.
MAX_COORDINATE = 1e6


def _require_plausible(name: str, values: np.ndarray, limit: float) -> None:
    if not np.isfinite(values).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    if values.size and float(np.abs(values).max()) > limit:
        raise ValueError(f"{name} holds values beyond ±{limit:g}")


def _inside_faceset(value: object, folder: str) -> str:
    """A crop path as written by extract: relative, inside `folder`, no `..`. Anything else
    would make training or swapping read files from outside the faceset."""
    text = str(value)
    if not text:
        return text  # an analysis-only faceset has no crops
    parts = PurePosixPath(text).parts
    if ("\\" in text or PurePosixPath(text).is_absolute() or len(parts) != 2
            or parts[0] != folder or parts[1] in ("..", ".")):
        raise ValueError(f"crop path {text!r} is not a file inside {folder}/")
    return text


def iter_jsonl(path: Path, torn_end_allowed: bool = True
               ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each complete line. A torn last line (no newline) is
    skipped where `torn_end_allowed` (a log being appended to), refused otherwise (a file
    written whole); any other bad line, bytes that are not UTF-8 included, is refused."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n") and torn_end_allowed:
                return  # torn write at the end: the writer was interrupted
            try:
                data = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise FacedubError(f"{path}: line {number} is not valid UTF-8 JSON "
                                   f"({_first_line(error)}); the faceset is damaged, extract "
                                   "again") from error
            if not isinstance(data, dict):
                raise FacedubError(f"{path}: line {number} is not a JSON object; the faceset "
                                   "is damaged, extract again")
            yield number, data


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:120] if str(error) else type(error).__name__


def crop_names(frame: int, face: int) -> tuple[str, str]:
    stem = f"{frame:06d}_{face:02d}.png"
    return f"{FACES_DIR}/{stem}", f"{MASKS_DIR}/{stem}"


def write_png(path: Path, image: np.ndarray) -> None:
    """Write an RGB or grey uint8 PNG (fast compression: crops are rewritten rarely)."""
    pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    if not cv2.imwrite(str(path), pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise FacedubError(f"{path}: could not be written; the disk is full or the folder is "
                           "not writable, free some space")


def read_crop(path: Path) -> np.ndarray:
    """A face crop's pixels exactly as the swap and training read them (`load_image`):
    (S, S, 3) uint8 RGB, any alpha channel dropped, not painted over. The content check
    looks at these: read as a photo (transparency over white), a crop whose alpha hid
    its colours passed the check while the swap used the hidden colours."""
    return _read_png(path, color=True)


def _read_png(path: Path, color: bool) -> np.ndarray:
    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
    if pixels is None:
        raise FacedubError(f"{path}: missing or unreadable; the faceset is damaged, "
                           "extract again")
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB) if color else pixels


def meta_from_json(raw: dict[str, Any], path: Path) -> FacesetMeta:
    """The typed form of faceset.json; FacedubError naming `path` if a field is wrong."""
    try:
        coverage = raw["coverage"]
        if coverage not in COVERAGES:
            raise ValueError(f"coverage {coverage!r}")
        persons = tuple(
            PersonSummary(int(p["id"]), int(p["faces"]), int(p["frames"]), int(p["tracks"]),
                          None if p["descriptor"] is None
                          else np.asarray(p["descriptor"], dtype=np.float32))
            for p in raw["persons"])
        source, settings = raw["source"], raw["settings"]
        reference = raw.get("person_reference")
        max_frames = settings.get("max_frames")
        return FacesetMeta(
            crop_size=int(raw["crop_size"]), coverage=coverage,
            source_name=str(source["name"]), source_sha256=str(source["sha256"]),
            source_kind=str(source["kind"]), source_frames=int(source.get("frames", 0)),
            frames_analysed=int(raw["frames_analysed"]), person=int(raw["person"]),
            persons=persons, blendshape_names=tuple(raw["blendshape_names"]),
            resumable=dict(settings["resumable"]),
            max_frames=None if max_frames is None else int(max_frames),
            has_crops=bool(raw.get("crops", True)),
            cuts=frozenset(int(frame) for frame in raw.get("cuts", [])),
            complete=bool(raw.get("complete")),
            reference_distance=None if reference is None else float(reference["distance"]),
            tool=str(raw.get("tool", "")), template=str(raw.get("template", TEMPLATE_NAME)))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise FacedubError(f"{path}: {field_problem(error)}; the "
                           "faceset is damaged, extract again") from error


def _parse_records(path: Path, meta: FacesetMeta, check_files: bool) -> Iterator[FaceRecord]:
    root = path.parent
    for number, data in iter_jsonl(path, torn_end_allowed=False):
        try:
            record = record_from_json(data)
        except (KeyError, TypeError, ValueError) as error:
            raise FacedubError(f"{path}: line {number}: {error}; the faceset is damaged, "
                               "extract again") from error
        if check_files and meta.has_crops:
            for relative in (record.image, record.mask):
                if not (root / relative).is_file():
                    raise FacedubError(f"{path}: line {number}: {relative} is missing; the "
                                       "faceset is damaged, extract again")
        yield record
