"""Training samples for OccluderNet: real aligned face crops with occluders composited in.

Every sample is a 128 px "whole" crop (facedub.align) of a face from a clip without
occlusions, with zero to three things drawn in front of it: a hand (skin texture cut from
another face, palm and fingers, shaded at its edges), glasses (frames around the eyes,
tinted lenses with glare; the frames are occluders, the lenses are not), a microphone, a
pen or cigarette at the lips, a cup or food at the mouth, strands and locks of hair, and
random objects textured from other crops, microphone heads at the lips and fingertips
over the lips and chin. Before them, some faces get looks that are skin and must not be
marked: strongly coloured lipstick, stage-light highlights, forehead furrows. The label is
where the occluders cover the crop. Used by tools/train_occluder.py only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from occluder_fingers import clasped_fingers, patch_texture, skin_colour
from occluder_looks import CHEEKS, FOREHEAD, LOOKS

from facedub.faces.regions import mesh_regions

RES = 128
CHIN, UPPER_LIP, LOWER_LIP, MOUTH_LEFT, MOUTH_RIGHT = 152, 13, 14, 61, 291
Layer = tuple[np.ndarray, np.ndarray, np.ndarray]  # rgb (H, W, 3) float, alpha, label


@dataclass(frozen=True)
class Crops:
    """`images` (N, 128, 128, 3) uint8 RGB; `landmarks` (N, 478, 2) in crop pixels;
    `hands` RGB uint8 patches of real hand skin (occluder_fingers.hand_patches)."""

    images: np.ndarray
    landmarks: np.ndarray
    hands: tuple[np.ndarray, ...] = ()


def sample(rng: np.random.Generator, crops: Crops, index: int) -> tuple[np.ndarray, np.ndarray]:
    """One training pair: image (128, 128, 3) float32 RGB in [0, 1] and label (128, 128)
    float32 in [0, 1], 1 where an occluder hides the face."""
    image = crops.images[index].astype(np.float32) / 255.0
    points = crops.landmarks[index]
    label = np.zeros((RES, RES), np.float32)
    for look in LOOKS:  # skin that must stay the face: lipstick, stage light, furrows
        if rng.random() < 0.25:
            image = look(rng, image, points)
    layers = []
    if rng.random() < FINGERS_SHARE:
        layers.append(_clasped(rng, crops, image, points))
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3]) - len(layers)):
        layers.append(PAINTERS[rng.integers(len(PAINTERS))](rng, crops, points))
    for rgb, alpha, cover in layers:
        image = image * (1.0 - alpha[..., None]) + rgb * alpha[..., None]
        label = np.maximum(label * (1.0 - alpha), cover)
    image, label = _jitter_geometry(rng, image, label)
    return _degrade(rng, image), label


def _hand(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    anchor = points[rng.choice([CHIN, UPPER_LIP, *CHEEKS, CHIN, LOWER_LIP])]
    centre = anchor + rng.normal(0, 10, 2) + np.array([0, rng.uniform(0, 25)])
    shape = np.zeros((RES, RES), np.uint8)
    axes = (int(rng.uniform(10, 22)), int(rng.uniform(12, 26)))
    cv2.ellipse(shape, _pt(centre), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    direction = rng.uniform(0, 2 * np.pi)
    for finger in range(int(rng.integers(1, 5))):
        angle = direction + (finger - 1.5) * rng.uniform(0.2, 0.4)
        length = rng.uniform(15, 38)
        start = centre + np.array([np.cos(angle), np.sin(angle)]) * axes[0] * 0.6
        end = start + np.array([np.cos(angle), np.sin(angle)]) * length
        cv2.line(shape, _pt(start), _pt(end), 255, int(rng.uniform(4, 9)), cv2.LINE_AA)
    hard = shape.astype(np.float32) / 255.0
    rgb = _skin_texture(rng, crops) * _edge_shading(rng, shape)[..., None]
    return rgb, _soften(rng, hard), hard


def _glasses(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    regions = mesh_regions()
    eyes = [points[regions.right_eye].mean(axis=0), points[regions.left_eye].mean(axis=0)]
    spacing = float(np.linalg.norm(eyes[1] - eyes[0]))
    tilt = float(np.degrees(np.arctan2(*(eyes[1] - eyes[0])[::-1])))
    width = spacing * rng.uniform(0.36, 0.5)
    axes = (int(width), int(width * rng.uniform(0.55, 0.9)))
    thickness = int(rng.integers(1, 4))
    frame = np.zeros((RES, RES), np.uint8)
    lens = np.zeros((RES, RES), np.uint8)
    shift = np.array([0.0, rng.uniform(-1, 4)])
    for eye in eyes:
        cv2.ellipse(lens, _pt(eye + shift), axes, tilt, 0, 360, 255, -1)
        cv2.ellipse(frame, _pt(eye + shift), axes, tilt, 0, 360, 255, thickness, cv2.LINE_AA)
    inner = [eyes[0] + shift + (eyes[1] - eyes[0]) * 0.5 * (1 - k) for k in (0.35, -0.35)]
    cv2.line(frame, _pt(inner[0]), _pt(inner[1]), 255, thickness, cv2.LINE_AA)
    for eye, side in ((eyes[0], -1), (eyes[1], 1)):
        outer = eye + shift + np.array([side * width, -axes[1] * 0.3])
        cv2.line(frame, _pt(outer), _pt(outer + np.array([side * 40, -2])), 255, thickness,
                 cv2.LINE_AA)
    colour = _frame_colour(rng)
    opacity = rng.uniform(0.45, 0.8) if colour.mean() > 0.6 else 1.0  # clear frames
    hard = frame.astype(np.float32) / 255.0
    lens_alpha = lens.astype(np.float32) / 255.0 * (1 - hard)
    tint, glare = rng.uniform(0.0, 0.25), _glare(rng, lens)
    rgb = np.empty((RES, RES, 3), np.float32)
    rgb[:] = colour
    lens_colour = np.clip(rng.uniform(0.4, 1.0, 3), 0, 1)
    lens_share = lens_alpha * tint
    rgb = (rgb * (hard * opacity)[..., None] + lens_colour * lens_share[..., None]
           + glare[..., None] * 1.0)
    alpha = np.clip(hard * opacity + lens_share + glare, 0, 1)
    rgb = rgb / np.maximum(alpha, 1e-3)[..., None]
    label = (hard > 0.3).astype(np.float32)
    return np.clip(rgb, 0, 1), alpha, label


def _microphone(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    head = points[UPPER_LIP] + rng.normal(0, 6, 2) + np.array([0, rng.uniform(0, 12)])
    radius = int(rng.uniform(8, 17))
    shape = np.zeros((RES, RES), np.uint8)
    angle = rng.uniform(np.pi * 0.25, np.pi * 0.75)
    tail = head + np.array([np.cos(angle), np.sin(angle)]) * 80
    cv2.line(shape, _pt(head), _pt(tail), 255, int(rng.uniform(5, 11)), cv2.LINE_AA)
    cv2.circle(shape, _pt(head), radius, 255, -1, cv2.LINE_AA)
    grey = rng.uniform(0.05, 0.7)
    rgb = np.full((RES, RES, 3), grey, np.float32) + rng.normal(0, 0.03, 3).astype(np.float32)
    grid = ((np.indices((RES, RES)).sum(axis=0) % 3) == 0).astype(np.float32)
    rgb += (grid * rng.uniform(0, 0.15))[..., None]
    hard = shape.astype(np.float32) / 255.0
    return np.clip(rgb * _edge_shading(rng, shape)[..., None], 0, 1), _soften(rng, hard), hard


def _mic_at_lips(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    """A handheld microphone's head at and over the lower lip (clip 11's stage shot):
    dark, rounded, a woven grille, a bright rim where the stage light catches it."""
    head = points[rng.choice([LOWER_LIP, LOWER_LIP, UPPER_LIP, MOUTH_LEFT, MOUTH_RIGHT])]
    head = head + rng.normal(0, 3, 2) + np.array([0, rng.uniform(0, 10)])
    axes = (int(rng.uniform(6, 15)), int(rng.uniform(6, 15)))
    shape = np.zeros((RES, RES), np.uint8)
    angle = rng.uniform(np.pi * 0.2, np.pi * 0.8)
    tail = head + np.array([np.cos(angle), np.sin(angle)]) * 80
    if rng.random() < 0.8:
        cv2.line(shape, _pt(head), _pt(tail), 255, int(rng.uniform(4, 10)), cv2.LINE_AA)
    cv2.ellipse(shape, _pt(head), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1,
                cv2.LINE_AA)
    grey = rng.uniform(0.02, 0.35)
    ys, xs = np.indices((RES, RES)).astype(np.float32)
    period, turn = rng.uniform(1.5, 4.0), rng.uniform(0, np.pi)
    weave = (np.sin((xs * np.cos(turn) + ys * np.sin(turn)) * 2 * np.pi / period)
             * np.sin((-xs * np.sin(turn) + ys * np.cos(turn)) * 2 * np.pi / period))
    rgb = (grey + weave * rng.uniform(0.0, 0.12))[..., None] * rng.uniform(0.85, 1.15, 3)
    rim = np.zeros((RES, RES), np.uint8)
    cv2.ellipse(rim, _pt(head), axes, float(rng.uniform(0, 360)), 0,
                float(rng.uniform(40, 160)), 255, int(rng.integers(1, 3)), cv2.LINE_AA)
    rgb = rgb + (rim.astype(np.float32) / 255 * rng.uniform(0.0, 0.8))[..., None]
    hard = shape.astype(np.float32) / 255.0
    rgb = rgb * _edge_shading(rng, shape)[..., None]
    return np.clip(rgb, 0, 1).astype(np.float32), _soften(rng, hard), hard


def _fingertips(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    """Fingertips pressed over the lips or the chin from below (hands held together in
    front of the mouth): skin on skin, told by the fingers' outlines and shading."""
    anchor = points[rng.choice([UPPER_LIP, LOWER_LIP, CHIN, CHIN, MOUTH_LEFT, MOUTH_RIGHT])]
    shape = np.zeros((RES, RES), np.uint8)
    gaps = np.zeros((RES, RES), np.uint8)
    count = int(rng.integers(1, 5))
    width = rng.uniform(5, 10)
    base_angle = -np.pi / 2 + rng.normal(0, 0.5)
    start = anchor + rng.normal(0, 4, 2) - np.array([width * (count - 1) / 2, 0])
    for finger in range(count):
        tip = start + np.array([finger * width * 0.95, rng.normal(0, 3)])
        angle = base_angle + rng.normal(0, 0.15)
        root = tip - np.array([np.cos(angle), np.sin(angle)]) * rng.uniform(30, 70)
        cv2.line(shape, _pt(tip), _pt(root), 255, int(width), cv2.LINE_AA)
        cv2.line(gaps, _pt(tip), _pt(root), 255, 1, cv2.LINE_AA)
    hard = shape.astype(np.float32) / 255.0
    rgb = _skin_texture(rng, crops) * _edge_shading(rng, shape)[..., None]
    edges = cv2.morphologyEx(shape, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    rgb = rgb * (1 - (edges.astype(np.float32) / 255) * rng.uniform(0.1, 0.35))[..., None]
    return np.clip(rgb, 0, 1).astype(np.float32), _soften(rng, hard), hard


def _clasped(rng: np.random.Generator, crops: Crops, image: np.ndarray, points: np.ndarray
             ) -> Layer:
    """Fingers of clasped hands over the chin and the lower lip in the face's own skin
    tone (occluder_fingers)."""
    side = points[rng.choice([MOUTH_LEFT, MOUTH_RIGHT])] - points[LOWER_LIP]
    anchor = points[LOWER_LIP] + (points[CHIN] - points[LOWER_LIP]) * rng.uniform(-0.1, 1.0)
    anchor = anchor + side * rng.uniform(0, 0.8)
    if crops.hands and rng.random() < 0.6:
        texture = patch_texture(rng, crops.hands[int(rng.integers(len(crops.hands)))])
    else:
        texture = _skin_texture(rng, crops)
    return clasped_fingers(rng, texture, skin_colour(image, points[list(CHEEKS)]), anchor)


def _stick(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    start = points[rng.choice([UPPER_LIP, LOWER_LIP, MOUTH_LEFT, MOUTH_RIGHT])]
    angle = rng.uniform(0, 2 * np.pi)
    end = start + np.array([np.cos(angle), np.sin(angle)]) * rng.uniform(18, 50)
    shape = np.zeros((RES, RES), np.uint8)
    cv2.line(shape, _pt(start), _pt(end), 255, int(rng.integers(2, 6)), cv2.LINE_AA)
    colour = rng.choice([0.95, 0.1, rng.uniform(0, 1)]) * np.ones(3) + rng.normal(0, .05, 3)
    rgb = np.empty((RES, RES, 3), np.float32)
    rgb[:] = np.clip(colour, 0, 1)
    hard = shape.astype(np.float32) / 255.0
    return rgb, _soften(rng, hard), hard


def _cup_or_food(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    centre = points[LOWER_LIP] + rng.normal(0, 6, 2) + np.array([0, rng.uniform(5, 30)])
    size = (float(rng.uniform(18, 45)), float(rng.uniform(20, 55)))
    shape = np.zeros((RES, RES), np.uint8)
    if rng.random() < 0.5:
        box = cv2.boxPoints(((float(centre[0]), float(centre[1])), size, rng.uniform(-25, 25)))
        cv2.fillConvexPoly(shape, np.round(box).astype(np.int32), 255, cv2.LINE_AA)
    else:
        cv2.ellipse(shape, _pt(centre), (int(size[0] / 2), int(size[1] / 3)),
                    float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA)
    rgb = _object_texture(rng, crops)
    hard = shape.astype(np.float32) / 255.0
    return rgb * _edge_shading(rng, shape)[..., None], _soften(rng, hard), hard


def _hair(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    shape = np.zeros((RES, RES), np.uint8)
    top = points[rng.choice(FOREHEAD)] + np.array([rng.normal(0, 15), -rng.uniform(5, 20)])
    bend, reach = rng.normal(0, 20, 2), rng.uniform(30, 80)
    thick_lock = rng.random() < 0.4
    for _ in range(int(rng.integers(3, 25)) if not thick_lock else 1):
        start = top + rng.normal(0, 6, 2)
        end = start + np.array([rng.normal(0, 25), reach + rng.normal(0, 8)])
        curve = _bezier(start, (start + end) / 2 + bend + rng.normal(0, 4, 2), end)
        width = int(rng.uniform(6, 16)) if thick_lock else int(rng.integers(1, 3))
        cv2.polylines(shape, [curve], False, 255, width, cv2.LINE_AA)
    colour = np.array([[0.08, 0.06, 0.05], [0.3, 0.2, 0.12], [0.75, 0.62, 0.4],
                       [0.5, 0.25, 0.12], [0.6, 0.6, 0.6]])[rng.integers(5)]
    rgb = np.clip(colour + rng.normal(0, 0.04, (RES, RES, 3)), 0, 1).astype(np.float32)
    hard = shape.astype(np.float32) / 255.0
    return rgb, hard * rng.uniform(0.8, 1.0), (hard > 0.35).astype(np.float32)


def _random_object(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    centre = points[rng.integers(len(points))] + rng.normal(0, 10, 2)
    count = int(rng.integers(4, 9))
    polygon = centre + rng.normal(0, rng.uniform(6, 22), (count, 2))
    shape = np.zeros((RES, RES), np.uint8)
    cv2.fillConvexPoly(shape, cv2.convexHull(np.round(polygon).astype(np.int32)), 255,
                       cv2.LINE_AA)
    hard = shape.astype(np.float32) / 255.0
    return _object_texture(rng, crops), _soften(rng, hard), hard


def _held_object(rng: np.random.Generator, crops: Crops, points: np.ndarray) -> Layer:
    """A large textured object held at the lower face (a phone, a mic windscreen, a
    sandwich): an ellipse or rounded box over the mouth and chin, cut from another
    picture, with a hard edge."""
    anchor = points[rng.choice([UPPER_LIP, LOWER_LIP, CHIN, MOUTH_LEFT, MOUTH_RIGHT])]
    centre = anchor + rng.normal(0, 8, 2)
    width = float(np.ptp(points[:, 0]))
    axes = (int(width * rng.uniform(0.15, 0.4)), int(width * rng.uniform(0.1, 0.3)))
    shape = np.zeros((RES, RES), np.uint8)
    cv2.ellipse(shape, _pt(centre), axes, float(rng.uniform(-30, 30)), 0, 360, 255, -1,
                cv2.LINE_AA)
    if rng.random() < 0.4:  # a box instead
        shape[:] = 0
        box = cv2.boxPoints(((float(centre[0]), float(centre[1])),
                             (2.0 * axes[0], 2.0 * axes[1]), rng.uniform(-30, 30)))
        cv2.fillConvexPoly(shape, np.round(box).astype(np.int32), 255, cv2.LINE_AA)
    hard = shape.astype(np.float32) / 255.0
    rgb = _object_texture(rng, crops)
    if rng.random() < 0.5:
        rgb = rgb * _edge_shading(rng, shape)[..., None]
    return rgb, hard, hard


PAINTERS: tuple[Callable[[np.random.Generator, Crops, np.ndarray], Layer], ...] = (
    _hand, _hand, _glasses, _glasses, _microphone, _stick, _cup_or_food, _hair, _hair,
    _random_object, _held_object, _held_object, _mic_at_lips, _mic_at_lips, _fingertips,
    _fingertips)
FINGERS_SHARE = 0.25  # of the faces get clasped fingers at the chin (_clasped) first




def _skin_texture(rng: np.random.Generator, crops: Crops) -> np.ndarray:
    """Skin of another (or the same) face, magnified so its cheek fills the crop."""
    other = int(rng.integers(len(crops.images)))
    cheek = crops.landmarks[other][rng.choice(CHEEKS)]
    scale = rng.uniform(1.8, 3.5)
    matrix = cv2.getRotationMatrix2D((float(cheek[0]), float(cheek[1])), rng.uniform(0, 360),
                                     scale)
    matrix[:, 2] += np.array([RES / 2, RES / 2]) - cheek
    warped = cv2.warpAffine(crops.images[other], matrix, (RES, RES),
                            borderMode=cv2.BORDER_REFLECT).astype(np.float32) / 255.0
    gain = rng.uniform(0.75, 1.25) * rng.uniform(0.9, 1.1, 3)
    return np.clip(warped * gain, 0, 1).astype(np.float32)


def _object_texture(rng: np.random.Generator, crops: Crops) -> np.ndarray:
    if rng.random() < 0.35:
        colour = rng.uniform(0, 1, 3)
        ramp = np.linspace(rng.uniform(0.6, 1), rng.uniform(0.6, 1), RES)[:, None, None]
        return np.clip(colour * ramp * np.ones((RES, RES, 3)), 0, 1).astype(np.float32)
    other = int(rng.integers(len(crops.images)))
    matrix = cv2.getRotationMatrix2D((RES / 2, RES / 2), rng.uniform(0, 360),
                                     rng.uniform(0.6, 2.5))
    matrix[:, 2] += rng.uniform(-50, 50, 2)
    return cv2.warpAffine(crops.images[other], matrix, (RES, RES),
                          borderMode=cv2.BORDER_REFLECT).astype(np.float32) / 255.0


def _frame_colour(rng: np.random.Generator) -> np.ndarray:
    palette = np.array([[0.05, 0.05, 0.05], [0.25, 0.15, 0.08], [0.75, 0.65, 0.35],
                        [0.7, 0.7, 0.72], [0.85, 0.85, 0.85], [0.5, 0.1, 0.1]])
    return np.clip(palette[rng.integers(len(palette))] + rng.normal(0, 0.04, 3), 0, 1)


def _glare(rng: np.random.Generator, lens: np.ndarray) -> np.ndarray:
    if rng.random() < 0.4:
        return np.zeros((RES, RES), np.float32)
    streak = np.zeros((RES, RES), np.uint8)
    ys, xs = np.nonzero(lens)
    pick = rng.integers(len(xs)) if len(xs) else 0
    centre = (int(xs[pick]), int(ys[pick])) if len(xs) else (RES // 2, RES // 2)
    cv2.ellipse(streak, centre, (int(rng.uniform(2, 8)), int(rng.uniform(1, 3))),
                float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA)
    soft = cv2.GaussianBlur(streak.astype(np.float32) / 255.0, (0, 0), 1.0)
    return soft * (lens > 0) * rng.uniform(0.3, 0.7)


def _edge_shading(rng: np.random.Generator, shape: np.ndarray) -> np.ndarray:
    """Darker towards the outline, as light falls off a rounded object."""
    distance = cv2.distanceTransform((shape > 127).astype(np.uint8), cv2.DIST_L2, 3)
    depth = rng.uniform(0.15, 0.4)
    return (1 - depth) + depth * np.clip(distance / rng.uniform(3, 8), 0, 1)


def _soften(rng: np.random.Generator, hard: np.ndarray) -> np.ndarray:
    sigma = rng.uniform(0.3, 1.2)
    return cv2.GaussianBlur(hard, (0, 0), sigma)


def _jitter_geometry(rng: np.random.Generator, image: np.ndarray, label: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Alignment is never exact: small rotation, scale and shift, sometimes a mirror."""
    matrix = cv2.getRotationMatrix2D((RES / 2, RES / 2), rng.normal(0, 5),
                                     rng.uniform(0.9, 1.1))
    matrix[:, 2] += rng.normal(0, 3, 2)
    image = cv2.warpAffine(image, matrix, (RES, RES), borderMode=cv2.BORDER_REFLECT)
    label = cv2.warpAffine(label, matrix, (RES, RES), borderMode=cv2.BORDER_REFLECT)
    if rng.random() < 0.5:
        image, label = image[:, ::-1], label[:, ::-1]
    return np.ascontiguousarray(image), np.ascontiguousarray(label)


def _degrade(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Exposure, colour cast, softness (small faces), noise and JPEG, as real video has."""
    image = np.clip(image * rng.uniform(0.7, 1.3) * rng.uniform(0.92, 1.08, 3), 0, 1)
    image = image ** rng.uniform(0.8, 1.25)
    if rng.random() < 0.4:
        small = int(rng.uniform(40, 110))
        image = cv2.resize(cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA),
                           (RES, RES), interpolation=cv2.INTER_LINEAR)
    image = image + rng.normal(0, rng.uniform(0, 0.025), image.shape)
    image = np.clip(image, 0, 1).astype(np.float32)
    if rng.random() < 0.3:
        _, data = cv2.imencode(".jpg", np.round(image * 255).astype(np.uint8),
                                [cv2.IMWRITE_JPEG_QUALITY, int(rng.uniform(35, 90))])
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0
    return image


def _bezier(start: np.ndarray, middle: np.ndarray, end: np.ndarray) -> np.ndarray:
    t = np.linspace(0, 1, 24)[:, None]
    curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * middle + t ** 2 * end
    return np.round(curve).astype(np.int32)


def _pt(point: np.ndarray) -> tuple[int, int]:
    return round(float(point[0])), round(float(point[1]))
