"""Lit skin across the chin's outline: a cue for fingers held at the chin and the lower
lip (see facedub.composite.occlusion), where the net gives them only 0.1-0.5, colour
finds skin and a held hand does not move.

A hand raised to the chin reaches the face from below its outline, and the stage light
that falls on the face falls on it too: its lit skin runs on, unbroken, from inside the
lower face to beyond the outline. A bare face's outline there is its edge against what
lies behind or under it: the neck in the chin's shadow, a collar, a beard, hair or the
background, none of which is lit skin. So a region of lit skin (the cheeks' own colour
where the light falls, `lit_skin`) below the mouth's corners that lies both inside the
face and beyond its outline is a hand in front of the face; the part inside is kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.occlusion_objects import (
    MOUTH_CORNERS,
    inside_loop,
    lit_skin,
    skin_reference,
)
from facedub.faces.masks import face_mask
from facedub.faces.regions import mesh_regions

# Judged out to HAND_REACH of the crop beyond the face's outline (3 px of 64).
HAND_REACH = 0.05
# A region of lit skin counts with LIT_BEYOND of the crop beyond the outline and
# LIT_INSIDE of it inside the face (5 px of 64 or more each): clip 11's fingers at the chin
# reach 5-77 px beyond and 32-60 inside, its bare frames and the bare-chin clips none.
LIT_BEYOND, LIT_INSIDE = 0.001, 0.001


def lit_hands(lab: np.ndarray, points: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """(R, R) float32 in {0, 1}: lit skin below the mouth's corners, inside the face,
    that runs on beyond its outline (a hand in front of the chin). `lab` (R, R, 3) the
    canonical crop in CIELAB, `points` the landmarks in its pixels, `shown` (R, R) bool
    the pixels inside the frame (nothing beyond the frame's edge counts)."""
    size = lab.shape[0]
    face = (face_mask(points, size, forehead=False) > 0.5) & shown
    below = np.arange(size)[:, None] > float(points[list(MOUTH_CORNERS), 1].mean())
    reach = 2 * max(1, round(HAND_REACH * size)) + 1
    beyond = ((cv2.dilate(face.astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0)
              & ~face & below & shown)
    none = np.zeros((size, size), np.float32)
    # Lit skin is at least as light as the cheeks' median (see `lit_skin`): where too
    # little beyond the outline is that light (Katie Hill's every frame), the colour
    # model need not be fitted.
    lightness = lab[..., 0]
    reference = lightness[skin_reference(points, size) & shown]
    pixels = size * size
    if len(reference) == 0 or (np.count_nonzero(lightness[beyond] >= np.median(reference))
                               < LIT_BEYOND * pixels):
        return none
    # The lips are not the chin: lit, they are no hand (and their own colour anyway).
    lips = inside_loop(points, mesh_regions().lips_outer, size)
    lit = lit_skin(lab, points, shown, (face | beyond) & below & ~lips)
    count, labels = cv2.connectedComponents(lit.astype(np.uint8), connectivity=4)
    out = np.bincount(labels[lit & beyond], minlength=count)
    inside = np.bincount(labels[lit & face], minlength=count)
    keep = (out >= LIT_BEYOND * pixels) & (inside >= LIT_INSIDE * pixels)
    keep[0] = False
    return (keep[labels] & face).astype(np.float32)
