"""The target's kept mouth corners on the coloured face's colour round them
(`compositor.corners_toned`, issue 9, forty-ninth round): hair-band-photo (Rose Leslie's
photo onto the boy of the two-person video call) showed a brown patch at the near mouth
corner at 1x. The mesh engine keeps the target's own corner skin where he smiles more than
the photo (its shade is what his smile is read from), and the compositor pasted it
uncoloured: his shaded corner (L 42, b 20 on the swap's frame 29) beside her toned lips and
skin (b 11-15). Its a and b now come from the face round it, its lightness stays his."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from test_corners_patch_round50 import disc_image

from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Composited, Compositor, corners_toned
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faceset import Faceset

CROP = 256  # call_face's size (conftest)
ROSE = "still_rose_leslie_frontal.jpg"
PATCH_FRAME = 29  # the brown corner at its plainest (hair-band-photo, 1x and 3x)


def _disc(centre: np.ndarray, radius: float) -> np.ndarray:
    rows, columns = np.mgrid[:CROP, :CROP]
    return np.asarray((columns - centre[0]) ** 2 + (rows - centre[1]) ** 2 <= radius ** 2)


def _places(target: TargetFace, corner: int, other: int) -> tuple[np.ndarray, np.ndarray]:
    """Above `corner` (a MediaPipe mouth corner), just past it: the kept corner's shade;
    and the skin above the upper lip a fifth of the mouth's width inward."""
    points = target.face_landmarks[:, :2].astype(np.float64)
    width = float(np.linalg.norm(points[corner] - points[other]))
    outward = (points[corner] - points[other]) / width
    up = np.array([0.0, -1.0])
    shade = _disc(points[corner] + outward * 0.04 * width + up * 0.12 * width, 0.06 * width)
    skin = _disc(points[corner] - outward * 0.22 * width + up * 0.22 * width, 0.05 * width)
    return shade, skin


def _swapped_and_composited(extracted: Callable[..., Faceset], target: TargetFace
                            ) -> tuple[SwappedFace, Composited]:
    source = extracted(ROSE, crop_size=CROP)
    swapped = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False)).swap_face(target)
    return swapped, Compositor(CompositeConfig()).composite(target, swapped)


def test_the_boys_near_corner_is_not_brown_beside_rose_leslies_skin(
        extracted: Callable[..., Faceset],
        call_face: Callable[[int], TargetFace]) -> None:
    """Frame 29, the composited crop (256 px, a fresh compositor): the kept near corner's
    yellow (b) under 4 over the skin above the lip beside it, and still at least 10 L
    darker than it (his shade, the smile's read, kept): b 13.8 against 11.1, L 42.0
    against 75.6. On main b 19.7 against 12.5 (7.2 over: the brown patch), L the same.
    (On this path frames 23, 37 and 39 show the target itself at the near corner, alpha 0:
    not read here.)"""
    target = call_face(PATCH_FRAME)
    swapped, composited = _swapped_and_composited(extracted, target)
    assert swapped.corners is not None and swapped.kept is not None
    lab = to_lab(composited.image)
    shade, skin = _places(target, 61, 291)
    assert composited.alpha[shade].min() > 0.9 and composited.alpha[skin].min() > 0.9
    assert swapped.kept[shade].mean() > 0.5  # the patch is the kept corner
    shade_lab, skin_lab = lab[shade].mean(axis=0), lab[skin].mean(axis=0)
    assert float(shade_lab[2]) < float(skin_lab[2]) + 4.0, (shade_lab, skin_lab)
    assert float(shade_lab[0]) < float(skin_lab[0]) - 10.0, (shade_lab, skin_lab)


def test_the_far_corner_is_no_paler_blotch(
        extracted: Callable[..., Faceset],
        call_face: Callable[[int], TargetFace]) -> None:
    """Frame 29, the far corner: its b not more than 3 under the skin beside it (b 5.2
    against 7.6; main 10.2 against 8.4). Its own mean weighted by the corners' share alone,
    not by how much of them is kept, took the swap's far corner to b 2.4-3.0 against the
    cheek's 5.1-6.5 (frames 23, 29, 39): a pale blotch at 3x."""
    target = call_face(PATCH_FRAME)
    _, composited = _swapped_and_composited(extracted, target)
    lab = to_lab(composited.image)
    shade, skin = _places(target, 291, 61)
    shade_lab, skin_lab = lab[shade].mean(axis=0), lab[skin].mean(axis=0)
    assert float(shade_lab[2]) > float(skin_lab[2]) - 3.0, (shade_lab, skin_lab)


def test_a_kept_corner_takes_the_faces_colour_and_keeps_its_lightness() -> None:
    """A brown disc (RGB 120, 80, 50) kept in a pink face (RGB 230, 180, 170): inside it
    a and b within 3 of the face's, its lightness unchanged (within 1 level), its crease
    (a darker line across it) as deep as before; nothing outside the disc moves."""
    face, kept_image, disc = disc_image((120, 80, 50))
    kept_image[47:49, 38:58] = (90, 60, 38)  # the crease
    result = corners_toned(kept_image, face, disc, disc, sigma=6.0)
    before, after, face_lab = to_lab(kept_image), to_lab(result), to_lab(face)
    inner = (slice(40, 46), slice(42, 54))
    assert np.abs(after[inner][..., 1:].mean(axis=(0, 1)) - face_lab[0, 0, 1:]).max() < 3.0
    assert np.abs(after[..., 0] - before[..., 0])[disc > 0].max() < 1.0
    crease_before = before[inner][..., 0].mean() - before[47:49, 42:54, 0].mean()
    crease_after = after[inner][..., 0].mean() - after[47:49, 42:54, 0].mean()
    assert abs(crease_after - crease_before) < 1.0
    assert np.array_equal(result[disc == 0], kept_image[disc == 0])
