"""The mesh engine's speed cuts of the twenty-second round (issue 9's speed), each against
the computation it replaced: equal values. Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.engines import mesh_expression, mesh_warp
from facedub.engines.base import TargetFace
from facedub.engines.mesh_expression import LOG_OFFSET
from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
from facedub.engines.mesh_warp import TargetRaster, rasterize, source_maps
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import Faceset

README_TARGET = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def _old_log_lightness(image: np.ndarray) -> np.ndarray:
    """`_log_lightness` as it was: the luma scaled and its log taken per pixel."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)[..., 0].astype(np.float32)
    return np.log(luma * (100.0 / 255.0) + LOG_OFFSET)


def test_the_log_lightness_table_is_the_per_pixel_arithmetic() -> None:
    """Every uint8 level at every offset of NumPy's vector loops (a run of all 256 levels
    shifted by 0-63 and cut at every length's remainder): the looked-up log lightness is
    the float32 arithmetic's, to the bit."""
    levels = np.tile(np.arange(256, dtype=np.uint8), 5)
    for shift in range(64):
        luma = np.roll(levels, shift)[:1000 + shift]
        lightness = luma.astype(np.float32) * (100.0 / 255.0) + LOG_OFFSET
        np.testing.assert_array_equal(mesh_expression._LOG_LIGHTNESS[luma], np.log(lightness))


def test_the_log_lightness_of_a_real_crop_is_as_before(
        first_target_face: Callable[..., TargetFace]) -> None:
    """The README clip's first face at 440 px, whole, at half size and a part of it (a
    view with strides of its own, as `_lift_cores` passes): the same values."""
    image = first_target_face(README_TARGET, 440).image
    for part in (image, cv2.resize(image, (220, 220), interpolation=cv2.INTER_AREA),
                 image[37:301, 55:333]):
        got = mesh_expression._log_lightness(part)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, _old_log_lightness(part))


def _old_barycentric(points: np.ndarray, triangles: np.ndarray, covering: np.ndarray,
                     pixels: np.ndarray, size: int, offset: float) -> np.ndarray:
    """`mesh_warp._barycentric` as it was: an einsum over the gathered inverses."""
    determinant, adjugate = mesh_warp._corner_adjugates(points, triangles)
    singular = np.abs(determinant) < 1e-9
    inverse = adjugate / np.where(singular, 1.0, determinant)[:, None, None]
    inverse[singular] = np.eye(3)
    inverse = inverse.astype(np.float32)
    ys, xs = np.divmod(pixels, size)
    homogeneous = np.stack([xs + offset, ys + offset, np.ones_like(xs, dtype=np.float64)],
                           axis=1).astype(np.float32)
    return np.einsum("pi,pij->pj", homogeneous, inverse[covering])


def _old_source_maps(raster: TargetRaster, source_vertices: np.ndarray,
                     source_triangles: np.ndarray, size: int) -> list[np.ndarray]:
    """`source_maps` as it was (whole crop): an einsum over the gathered corners."""
    corners = source_vertices.astype(np.float32)[source_triangles][raster.triangle]
    coordinates = np.einsum("pk,pkd->dp", raster.barycentric, corners)
    maps = []
    for values in coordinates:
        small = np.full(raster.size * raster.size, -1.0, dtype=np.float32)
        small[raster.pixels] = values
        maps.append(cv2.resize(small.reshape(raster.size, raster.size), (size, size),
                               interpolation=cv2.INTER_LINEAR))
    return maps


def test_the_rasters_weights_and_the_source_maps_are_the_einsums(
        extracted: Callable[..., Faceset]) -> None:
    """The README clip's faces (every 4th of its first 40, 440 px, turning) rasterised as
    the engine does: the barycentric weights summed by hand are the einsum's, and so are
    the source maps of another frame's mesh (direct and mirrored triangles, whole crop and
    a box), to the bit."""
    size = 440
    faceset = extracted(README_TARGET, max_frames=40, crop_size=size)
    records = faceset.faces_of()[::4]
    topology = mesh_topology()
    meshes = [landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
              for record in records]
    for k, landmarks in enumerate(meshes):
        vertices = mesh_vertices(landmarks)
        raster = rasterize(vertices, mesh_depths(landmarks), size, topology)
        points = vertices * (raster.size / size)
        offset = 0.5 * (1.0 - raster.size / size)
        np.testing.assert_array_equal(
            raster.barycentric, _old_barycentric(points, topology.triangles, raster.triangle,
                                                 raster.pixels, raster.size, offset))
        source = mesh_vertices(meshes[(k + 3) % len(meshes)])
        for triangles in (topology.triangles, topology.mirror):
            old = _old_source_maps(raster, source, triangles, size)
            new = source_maps(raster, source, triangles, size)
            box = (slice(100, 260), slice(40, 390))
            boxed = source_maps(raster, source, triangles, size, box)
            for axis in range(2):
                np.testing.assert_array_equal(new[axis], old[axis])
                np.testing.assert_array_equal(boxed[axis], old[axis][box])


def _old_off_skin(image: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """`mesh_expression._off_skin` as it was: the whole Lab image cast, the skin's three
    channels picked by a boolean mask and the median taken of two strided columns."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    on_skin = skin > 0.5
    median = np.median(lab[on_skin][::5, 1:], axis=0)
    distance = np.hypot(lab[..., 1] - median[0], lab[..., 2] - median[1])
    low, high = mesh_expression.OFF_SKIN_CHROMA
    off = np.where(on_skin, np.clip((distance - low) / (high - low), 0.0, 1.0), 1.0)
    unit = image.shape[0] / 256.0
    grow = max(1, round(6 * unit))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    grown = cv2.dilate(off.astype(np.float32), kernel)
    return cv2.GaussianBlur(grown, (0, 0), 4.0 * unit)


def test_off_skin_is_as_before(extracted: Callable[..., Faceset],
                               first_target_face: Callable[..., TargetFace]) -> None:
    """The README clip's first face at the half size the lines are found at, with its skin
    mask, and Paul Rudd's photo crop with the same mask: the same values, to the bit."""
    face = first_target_face(README_TARGET, 440)
    points = np.asarray(face.face_landmarks, dtype=np.float64)[:, :2] * 0.5
    skin = mesh_expression.skin_mask(points, 220)
    photo = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=440)
    crop = photo.load_image(photo.faces_of()[0])
    for image in (face.image, crop):
        image = cv2.resize(image, (220, 220), interpolation=cv2.INTER_AREA)
        got = mesh_expression._off_skin(image, skin)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, _old_off_skin(image, skin))
