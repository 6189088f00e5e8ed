"""The source faces as the mesh engine reads them: each face's crop as on disk and
cleaned (its clean weight as a fourth channel, so one remap warps both), its landmarks in
the crop, its mouth interior, and how each triangle is sampled from itself or from its
mirror image. Each is made on first use and kept in a small cache: a video source has
thousands of faces, a swap reads the few nearest the target in pose and expression. The
cleaned crops and mouth interiors, the costly part (about 70 ms a 512 px face), are kept
on disk too where the caller says (mesh_source_cache): a later swap from the same source,
and a face read again after the small cache let it go, reads them back instead, and so
are the light's asymmetry of each face and, where the light is given back, its crop as
decoded: a later swap decodes no PNG. A first swap makes the faces its target's frames
will blend ahead, on a thread of its own (`make_in_background`); each face is made by
whichever thread asks first, the others wait for it (a lock a face).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Executor
from pathlib import Path

import cv2
import numpy as np

from facedub.engines.mesh_catchlights import without_catchlights
from facedub.engines.mesh_clean import clean_weights
from facedub.engines.mesh_light import asymmetry_length, light_asymmetry, without_light
from facedub.engines.mesh_mouth import mouth_interior
from facedub.engines.mesh_source_brows import BrowLift, brow_lift, brows_held_down
from facedub.engines.mesh_source_cache import SourceCache, code_fingerprint, face_key
from facedub.engines.mesh_topology import MeshTopology
from facedub.engines.mesh_warp import SourceSampling, triangle_corners, triangle_visibility
from facedub.engines.recent import Recent
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import FaceRecord, Faceset

log = logging.getLogger(__name__)


def with_alpha(crop: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """(S, S, 4) uint8: the (S, S, 3) uint8 `crop` with its clean weight `clean` (S, S) in
    [0, 1] as a fourth channel, 0..255 rounded. OpenCV's channel copies: NumPy's
    concatenation along the channels took 0.88 against 0.12 ms a 512 px face."""
    alpha = clean * 255.0
    np.round(alpha, out=alpha)
    rgba: np.ndarray = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2RGBA)
    cv2.insertChannel(alpha.astype(np.uint8), rgba, 3)
    return rgba


class SourceFaces:
    """The faces `records` of the faceset `source`, `vertices` their mesh vertices.
    `lift_shadows`: the source's one-sided light taken out of the cleaned crops
    (mesh_light); `no_catchlights`: its irises' reflections too (mesh_catchlights,
    for when the source's own eyes are shown). `cache_size`: crops kept in memory (about
    1 MB each of a 512 px crop's cleaned RGBA, its decoded RGB and its mouth interior).
    `disk`: the folder whose `mesh-cache` keeps the cleaned crops and mouth interiors on
    disk too (`mesh_source_cache.cache_folder`); None: kept in memory only."""

    def __init__(self, source: Faceset, records: Sequence[FaceRecord], topology: MeshTopology,
                 vertices: Sequence[np.ndarray], *, lift_shadows: bool,
                 no_catchlights: bool, cache_size: int, disk: Path | None = None) -> None:
        self._source = source
        self._records = records
        self._topology = topology
        self._vertices = vertices
        self._lift_shadows = lift_shadows
        self._no_catchlights = no_catchlights
        self._crops: Recent[np.ndarray] = Recent(cache_size)
        self._decoded: Recent[np.ndarray] = Recent(cache_size)  # as on disk, once
        # The same crops for the light given back: read from the disk cache where kept (a
        # PNG decode is 5.6 ms a 512 px face, the raw array's read 0.3), else the decoded.
        self._unlifted: Recent[np.ndarray] = Recent(cache_size)
        self._asymmetries: Recent[np.ndarray] = Recent(4 * cache_size)
        self._interiors: Recent[np.ndarray] = Recent(cache_size)
        self._brow_lifts: Recent[BrowLift | None] = Recent(cache_size)
        self._mirror_clean: Recent[bool] = Recent(4 * cache_size)
        self._samplings: Recent[SourceSampling] = Recent(4 * cache_size)
        self._mirrors: Recent[SourceSampling] = Recent(4 * cache_size)
        code = None if disk is None else code_fingerprint([__name__])
        self._disk = None if disk is None or code is None else SourceCache(disk, {
            "crop_size": source.meta.crop_size, "lift_shadows": lift_shadows,
            "no_catchlights": no_catchlights}, code)
        self._disk_folder = disk
        # One lock a face: a face is made by one thread, whichever asks first (the engine
        # thread, the face threads, `make_in_background`'s); the others wait for it.
        self._face_locks: dict[int, threading.RLock] = {}
        self._face_locks_lock = threading.Lock()
        self._background: tuple[threading.Thread, threading.Event] | None = None

    def landmarks(self, index: int) -> np.ndarray:
        record = self._records[index]
        return landmarks_in_crop(record.frame_landmarks, record.face_from_frame)

    def crop_and_landmarks(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.source_crop(index), self.landmarks(index)

    def source_crop(self, index: int) -> np.ndarray:
        """(S, S, 3) uint8: the source crop as on disk (the light lift reads it too)."""
        with self._face_lock(index):
            return self._decoded.get(index,
                                     lambda: self._source.load_image(self._records[index]))

    def unlifted(self, index: int) -> np.ndarray:
        """`source_crop`, kept on disk too: the light given back (`mesh_light.SourceLight`)
        blends it in on the frames whose target shows the source's light (15 of 200 on
        the webcam source's swap); a later swap reads it back instead of decoding it."""
        size = self._source.meta.crop_size
        with self._face_lock(index):
            return self._unlifted.get(index, lambda: self._kept(
                "crop", index, (size, size, 3), np.uint8, lambda: self.source_crop(index)))

    def light_asymmetry(self, index: int) -> np.ndarray:
        """(P,) float32: the face's `mesh_light.light_asymmetry`, kept on disk too: every
        frame's `SourceLight.shared` reads it for each face blended, and made again it
        needs the crop's PNG decode (5.6 ms a 512 px face)."""
        with self._face_lock(index):
            return self._asymmetries.get(index, lambda: self._kept(
                "asymmetry", index, (asymmetry_length(),), np.float32,
                lambda: light_asymmetry(self.source_crop(index), self.landmarks(index))))

    def clean_crop(self, index: int) -> np.ndarray:
        """(S, S, 4) uint8: the source crop, RGB, and its clean weight (0..255) as a fourth
        channel, so one remap warps both."""
        def load() -> np.ndarray:
            crop = self.source_crop(index)
            landmarks = self.landmarks(index)
            # A held object and hanging hair are looked for on a photo source only
            # (mesh_clean.clean_weights; passed by position: the tests' recorders of this
            # call take no keywords).
            held_objects = self._source.meta.source_kind == "photo"
            clean = clean_weights(crop, landmarks, held_objects)
            if self._lift_shadows:
                crop = without_light(crop, landmarks, clean, self._topology)
            if self._no_catchlights:
                crop = without_catchlights(crop, landmarks)
            return with_alpha(crop, clean)
        size = self._source.meta.crop_size
        with self._face_lock(index):
            return self._crops.get(index, lambda: self._kept("clean", index, (size, size, 4),
                                                             np.uint8, load))

    def brow_lift(self, index: int) -> BrowLift | None:
        """A smiling photo's squint shades its brows' inner heads, a frown on a target at
        rest: their lift out of the shade in `clean_crop` (mesh_source_brows), which each
        frame takes as far as its target's own brows are not low; None for any other face."""
        def make() -> BrowLift | None:
            photo = self._source.meta.source_kind == "photo"
            if not (photo and brows_held_down(self._records[index].blendshapes)):
                return None
            return brow_lift(self.clean_crop(index), self.source_crop(index),
                             self.landmarks(index))
        with self._face_lock(index):
            return self._brow_lifts.get(index, make)

    def interior(self, index: int) -> np.ndarray:
        """The face's mouth interior (teeth, cavity) weight (mesh_mouth.mouth_interior)."""
        size = self._source.meta.crop_size
        with self._face_lock(index):
            return self._interiors.get(index, lambda: self._kept(
                "interior", index, (size, size), np.float32,
                lambda: mouth_interior(self.clean_crop(index)[..., :3],
                                       self.landmarks(index))))

    def kept_reading(self, kind: str, module: str, faces: Sequence[int],
                     read: Callable[[], float]) -> float:
        """`read()`, a reading of the whole source over its faces `faces` (`module` names
        the facedub module that computes it), kept on disk too where the faces' arrays
        are: the source's stubble (mesh_stubble.source_stubble: 9 crops' PNG decode and
        reading, 0.12 s of CPU on every swap's first frame) is read back by a later
        swap. Made again where the faces read, any one's key (its landmarks, alignment,
        crop file) or the code of `module` and what it imports changed."""
        if self._disk_folder is None:
            return read()
        code = code_fingerprint([module])
        if code is None:
            return read()
        keys = [f"{index}:" + face_key(self._records[index].frame_landmarks,
                                       self._records[index].face_from_frame,
                                       self._source.root / self._records[index].image)
                for index in faces]
        # No key where a face's crop file cannot be read: never matched, nothing kept.
        key = ("" if any(key.endswith(":") for key in keys)
               else hashlib.sha256("\n".join(keys).encode()).hexdigest())
        readings = SourceCache(self._disk_folder, {
            "crop_size": self._source.meta.crop_size, "reading": kind}, code)
        kept = readings.get(kind, "source", key, ((1,), np.dtype(np.float64)),
                            lambda: np.array([read()], dtype=np.float64))
        return float(kept[0])

    def make_ahead(self, indices: Collection[int], workers: Executor, *, interiors: bool,
                   light: bool) -> None:
        """The cleaned crops of the faces `indices` not yet held (and their mouth interiors
        where `interiors`, their light's asymmetry where `light`), made or read back on
        `workers`, a face a thread: a first swap's first use of a face is 75 ms of work,
        a frame brings several new ones. Each face's own caches are filled by one thread
        at a time (its lock: the thread that asks first makes it, `make_in_background`'s
        too, the others wait); the small caches lock their own look-ups and inserts
        (`Recent`), and each face's values are the same whichever thread makes them."""
        missing = [index for index in indices
                   if index not in self._crops or (interiors and index not in self._interiors)
                   or (light and index not in self._asymmetries)]
        if len(missing) > 1:
            for _ in workers.map(lambda index: self._make(index, interiors, light), missing):
                pass

    def make_in_background(self, order: Callable[[], Sequence[int]], *, interiors: bool,
                           light: bool) -> None:
        """The faces `order()` gives made (or read back) in that order on a thread of its
        own, as `make_ahead` makes them, until all are or `stop_background`: a first swap
        from a video source makes each face its target's frames blend (about 45 ms of
        work, on the engine thread where a frame brings one new face) on the core that start-up and
        the pipeline leave idle. Only where the faces are kept on disk: a face made ahead
        and let go by the small caches is read back, not made again. An error there is
        left to the engine thread, which makes that face again and reports it."""
        if self._disk is None or self._background is not None:
            return
        stop = threading.Event()

        def run() -> None:
            try:
                for index in order():
                    if stop.is_set():
                        return
                    if not self._on_disk(index, interiors, light):
                        self._make(index, interiors, light)
            except Exception:  # the engine thread makes that face again and reports it
                log.debug("source faces made ahead: stopped", exc_info=True)
        thread = threading.Thread(target=run, name="facedub-source-ahead", daemon=True)
        self._background = (thread, stop)
        thread.start()

    def stop_background(self) -> None:
        """`make_in_background`'s thread stopped after the face it is making, and waited
        for (a face's work: under 0.1 s)."""
        if self._background is not None:
            thread, stop = self._background
            stop.set()
            thread.join()
            self._background = None

    def _make(self, index: int, interiors: bool, light: bool) -> None:
        """The face `index`'s cleaned crop, with its mouth interior where `interiors`, its
        light's asymmetry where `light`: made, or read back, into the small caches."""
        self.clean_crop(index)
        if interiors:
            self.interior(index)
        if light:
            self.light_asymmetry(index)

    def _on_disk(self, index: int, interiors: bool, light: bool) -> bool:
        """Whether the files `_make` would make of the face `index` are there already (a
        later swap): read back as a frame needs them (a millisecond or so), not ahead,
        where the small caches would let the first go before they are used."""
        disk = self._disk
        stem = Path(self._records[index].image).stem
        return disk is not None and disk.holds("clean", stem) and (
            not interiors or disk.holds("interior", stem)) and (
            not light or disk.holds("asymmetry", stem))

    def _face_lock(self, index: int) -> threading.RLock:
        with self._face_locks_lock:
            lock = self._face_locks.get(index)
            if lock is None:
                lock = self._face_locks[index] = threading.RLock()
            return lock

    def _kept(self, kind: str, index: int, shape: tuple[int, ...], dtype: type[np.generic],
              make: Callable[[], np.ndarray]) -> np.ndarray:
        """`make()`, or what it made for this face before, read back from the disk: an
        array of `shape` and `dtype`."""
        if self._disk is None:
            return make()
        record = self._records[index]
        key = face_key(record.frame_landmarks, record.face_from_frame,
                       self._source.root / record.image)
        return self._disk.get(kind, Path(record.image).stem, key, (shape, np.dtype(dtype)),
                              make)

    def sampling(self, index: int) -> SourceSampling:
        """Every triangle sampled from itself, with how well the source shows it."""
        def plan() -> SourceSampling:
            triangles = self._topology.triangles
            vertices = self._vertices[index]
            return SourceSampling(triangles, triangle_visibility(
                vertices, self._topology.template_vertices, triangles),
                triangle_corners(vertices, triangles))
        return self._samplings.get(index, plan)

    def mirror(self, index: int) -> SourceSampling:
        """Every triangle sampled from its mirror image on the other side of the face."""
        def plan() -> SourceSampling:
            mirror = self._topology.mirror
            vertices = self._vertices[index]
            visibility = triangle_visibility(vertices, self._topology.template_vertices, mirror)
            return SourceSampling(triangles=mirror, visibility=visibility,
                                  corners=triangle_corners(vertices, mirror))
        return self._mirrors.get(index, plan)

    def mirror_cleans(self, index: int) -> bool:
        """Whether the source's other side is clean where this side is not (a fringe to
        one side, a photo cut on one side); hair over the whole forehead is not."""
        def check() -> bool:
            clean = self.clean_crop(index)[..., 3] > 127
            return bool(np.mean(~clean & np.fliplr(clean)) > 0.002)
        return self._mirror_clean.get(index, check)
