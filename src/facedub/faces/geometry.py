"""Similarity fits, warps between frame and aligned crop, and head pose from landmarks.

Points and matrices follow the conventions in `facedub.types`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from facedub.faces.masks import three_channels
from facedub.types import HeadPose

# Linear interpolation at a uniformly random sub-pixel phase keeps on average
# 1 - (1 - cos w) / 3 of the energy at frequency w (per axis); the kernel [-a, 1 + 2a, -a]
# multiplies it by (1 + 2a (1 - cos w))^2. With a = 1/6 the product is 1 to first order
# in (1 - cos w) for two such resamplings: the cut of the target crop out of the frame and
# the paste back. Every pixel of a composited face went through at least these two, so
# the pasted face came out softer and less grainy than the frame around it (issue 9).
RESAMPLING_COMPENSATION = 1.0 / 6.0


def umeyama(source: np.ndarray, target: np.ndarray, with_scale: bool = True) -> np.ndarray:
    """Least-squares similarity transform mapping `source` points onto `target` points.

    Umeyama, "Least-squares estimation of transformation parameters between two point
    patterns", TPAMI 1991. `source`, `target`: (N, D) arrays. Returns a (D+1, D+1)
    homogeneous matrix T with target ≈ T[:D, :D] @ source + T[:D, D].
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    count, dims = source.shape
    source_mean = source.mean(axis=0)
    target_mean = target.mean(axis=0)
    source_centered = source - source_mean
    target_centered = target - target_mean
    covariance = target_centered.T @ source_centered / count
    u, singular, vt = np.linalg.svd(covariance)
    reflect = np.eye(dims)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        reflect[-1, -1] = -1.0
    rotation = u @ reflect @ vt
    scale = 1.0
    if with_scale:
        source_variance = (source_centered**2).sum() / count
        scale = float(np.trace(np.diag(singular) @ reflect) / source_variance)
    transform = np.eye(dims + 1)
    transform[:dims, :dims] = scale * rotation
    transform[:dims, dims] = target_mean - scale * rotation @ source_mean
    return transform


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2+) points through a 2x3 affine; extra columns (z) are scaled by the
    matrix's scale so depth stays in the same pixel units."""
    points = np.asarray(points, dtype=np.float64)
    mapped = points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    if points.shape[1] == 2:
        return mapped
    scale = math.sqrt(abs(np.linalg.det(matrix[:, :2])))
    return np.concatenate([mapped, points[:, 2:] * scale], axis=1)


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))


def warp_to_face(frame: np.ndarray, face_from_frame: np.ndarray, size: int,
                 interpolation: int = cv2.INTER_LINEAR, antialias: bool = False) -> np.ndarray:
    """Cut the (size, size) aligned crop out of a frame; outside the frame is black.
    With `antialias`, a crop that shrinks the frame (fewer crop pixels than frame pixels)
    is cut from the frame low-passed first (`_antialiased`)."""
    scale = math.sqrt(abs(np.linalg.det(face_from_frame[:, :2])))
    if antialias and scale < 1.0:
        frame, face_from_frame = _antialiased(frame, face_from_frame, size, scale)
    return cv2.warpAffine(frame, face_from_frame, (size, size), flags=interpolation,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _antialiased(frame: np.ndarray, face_from_frame: np.ndarray, size: int, scale: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The part of `frame` the crop reads, Gaussian-blurred by (1 / scale - 1) / 2 frame
    pixels, and the crop's matrix from that part. Sampled by linear interpolation alone, a
    crop at a quarter of a studio photo's scale kept every fourth pixel's pores and noise:
    aliased, its fine band several times the frame's (the compositor then blurred the whole
    face, its features too, to bring it down)."""
    sigma = (1.0 / scale - 1.0) / 2.0
    height, width = frame.shape[:2]
    box = face_box_in_frame(face_from_frame, size, (width, height))
    if box is None:
        return frame, face_from_frame
    reach = math.ceil(3.0 * sigma) + 1  # the blur near the part's edge sees the frame
    x0, y0 = max(0, box[0] - reach), max(0, box[1] - reach)
    x1, y1 = min(width, box[2] + reach), min(height, box[3] + reach)
    part = cv2.GaussianBlur(frame[y0:y1, x0:x1], (0, 0), sigma)
    from_part = face_from_frame.copy()
    from_part[:, 2] += face_from_frame[:, :2] @ np.array([x0, y0], dtype=np.float64)
    return part, from_part


def crop_in_frame(face_from_frame: np.ndarray, size: int, frame_size: tuple[int, int]
                  ) -> np.ndarray:
    """(size, size) bool: the pixels of the crop `warp_to_face` cuts that lie wholly inside
    the frame (`frame_size` (W, H)); the others are the black fill beyond its edges, in
    part or whole. Found by warping the frame's extent the same way, so it agrees with the
    crop to the pixel, and true blacks in the picture are not mistaken for the fill."""
    width, height = frame_size
    # A crop whose corner pixels all land a pixel or more inside the frame samples only the
    # frame (the map is affine, so the corners bound it): skip warping a frame-sized mask.
    last = float(size - 1)
    corners = np.array([[0, 0], [last, 0], [0, last], [last, last]], dtype=np.float64)
    in_frame_corners = apply_affine(invert_affine(face_from_frame), corners)
    if (in_frame_corners.min() >= 1.0 and in_frame_corners[:, 0].max() <= width - 2
            and in_frame_corners[:, 1].max() <= height - 2):
        return np.ones((size, size), dtype=bool)
    ones = np.full((height, width), 255, np.uint8)
    return warp_to_face(ones, face_from_frame, size) == 255


def warp_to_frame(face: np.ndarray, face_from_frame: np.ndarray, frame_size: tuple[int, int],
                  interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Map an aligned crop (image or mask) back into frame pixels. `frame_size` is (W, H)."""
    return cv2.warpAffine(face, face_from_frame, frame_size,
                          flags=interpolation | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def paste_back(frame: np.ndarray, face: np.ndarray, mask: np.ndarray,
               face_from_frame: np.ndarray,
               compensation: float = RESAMPLING_COMPENSATION) -> np.ndarray:
    """Alpha-blend an aligned face into a copy of the frame through the inverse warp.

    `mask` (S, S) float32 in [0, 1], 1 where the face replaces the frame. Only the face's
    bounding box in the frame is touched, which keeps this cheap on large frames. The
    warped face is sharpened by the 3x3 kernel of `compensation` (a in [-a, 1 + 2a, -a]
    along each axis; 0: none), which gives back on average what the two linear
    resamplings, into the crop and back, took (RESAMPLING_COMPENSATION), scaled down where
    the crop holds more pixels than the face covers in the frame (`_compensation_at`).
    """
    compensation = _compensation_at(compensation, face_from_frame)
    height, width = frame.shape[:2]
    box = face_box_in_frame(face_from_frame, face.shape[0], (width, height))
    result = frame.copy()
    if box is None:
        return result
    x0, y0, x1, y1 = box
    # A point of the box region is frame = local + (x0, y0), so crop = M @ local + M @ box.
    local_from_frame = face_from_frame.copy()
    local_from_frame[:, 2] += face_from_frame[:, :2] @ np.array([x0, y0], dtype=np.float64)
    size = (x1 - x0, y1 - y0)
    face_local = warp_to_frame(face, local_from_frame, size)
    alpha = warp_to_frame(mask.astype(np.float32), local_from_frame, size)
    # Blended only where alpha is not 0 (elsewhere the frame's pixels come out unchanged).
    rows, columns = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not rows.size:
        return result
    inner = slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)
    outer = slice(y0 + rows[0], y0 + rows[-1] + 1), slice(x0 + columns[0], x0 + columns[-1] + 1)
    region = result[outer].astype(np.float32)
    # region + alpha * (face - region), + 0.5, clipped: in place on the filtered face (a
    # fresh array), the same values as the one expression's five temporaries (1 ms at 512
    # px of 2.5: each temporary a fresh allocation of the box's floats).
    blended = _compensated(face_local[inner], compensation)
    blended -= region
    blended *= three_channels(alpha[inner])
    blended += region
    blended += 0.5
    result[outer] = np.clip(blended, 0, 255, out=blended).astype(np.uint8)
    return result


def _compensation_at(strength: float, face_from_frame: np.ndarray) -> float:
    """`strength` for a crop of `face_from_frame`'s scale (crop pixels per frame pixel).
    A crop finer than the frame loses little on its way into it and back: at 2 and 4 crop
    pixels a frame pixel the full 1/6 over-sharpened the face and the frame's own pixels in
    the feather band (fine band kept 1.22 and 1.46 of the frame's; least error near 1/6
    divided by the scale)."""
    scale = math.sqrt(abs(float(np.linalg.det(face_from_frame[:, :2]))))
    return strength * min(1.0, 1.0 / scale) if scale > 0.0 else strength


def _compensated(image: np.ndarray, strength: float) -> np.ndarray:
    """(H, W, 3) float32: `image` filtered by [-a, 1 + 2a, -a] along each axis, a =
    `strength`. In frame pixels, after the warp: inside the frame's box the crop's black
    fill beyond a frame edge is never read (the box's own edge is replicated), and where
    the filter reads the warp's empty surround the mask is already 0."""
    if strength == 0.0:
        return image.astype(np.float32)  # a copy: paste_back works in place on it
    kernel = np.array([-strength, 1.0 + 2.0 * strength, -strength], dtype=np.float32)
    filtered: np.ndarray = cv2.sepFilter2D(image, cv2.CV_32F, kernel, kernel,
                                           borderType=cv2.BORDER_REPLICATE)
    return filtered


def face_box_in_frame(face_from_frame: np.ndarray, size: int,
                      frame_size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """Integer box (x0, y0, x1, y1) of the crop's footprint in the frame, clipped to it."""
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
    frame_corners = apply_affine(invert_affine(face_from_frame), corners)
    width, height = frame_size
    x0 = max(0, math.floor(frame_corners[:, 0].min()) - 1)
    y0 = max(0, math.floor(frame_corners[:, 1].min()) - 1)
    x1 = min(width, math.ceil(frame_corners[:, 0].max()) + 2)
    y1 = min(height, math.ceil(frame_corners[:, 1].max()) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def pose_from_rotation(rotation: np.ndarray) -> HeadPose:
    """Yaw, pitch, roll in degrees from a 3x3 rotation in image axes (x right, y down,
    z away from the camera) that turns the frontal template into the observed face."""
    forward = -rotation[:, 2]  # the template looks towards the camera, along -z
    up = -rotation[:, 1]  # the template's up is -y in image axes
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(up[0], -up[1]))
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll)


def head_pose(frame_landmarks: np.ndarray, template: np.ndarray,
              indices: np.ndarray) -> HeadPose:
    """Head pose from the 3D similarity (Umeyama) of the frontal template onto the face's
    landmarks, using the rigid landmark `indices` (eyes, nose, brow; not jaw or lips)."""
    transform = umeyama(template[indices], frame_landmarks[indices, :3])
    scaled = transform[:3, :3]
    rotation = scaled / np.cbrt(np.linalg.det(scaled))
    return pose_from_rotation(rotation)
