"""Shading apart from albedo: the swapped face keeps the source's detail, and takes its
colour and light from the target.

A face image is roughly low-frequency light and skin tone times fine detail. The source's
light (its nostril shadows, forehead shine, a colourised photo's blotches) and its skin
tone sit in the low frequencies; its identity's texture (brows, lid creases, lip edges,
pores) in the high ones. So the result is the target's own low-pass (its light, its skin
tone, which is also its neck's, its lips' and brows' colour at their places) plus the
source's high-pass, with the source's lightness detail softly limited to about what the
target's skin shows nearby (a deep source shadow or a stubble field on a smooth chin
would read as dirt) and its chroma detail damped (colour detail is where invented hues
come from). The colour's split is finer than the light's (CHROMA_DIVISOR): the target's
blush, rosy nose and warm shading are its skin's colour too, and averaged away they left
a flat, greyish face.

The source's *hard* light has sharp edges, so this split alone carries it as detail: a
half-face shadow's edge down the nose, a side-lit nose's dark flank. The mesh engine
takes it off each source crop before the warp (`engines/mesh_light.py`: each side of
the face meets its mirror side's light half way where one is broadly darker), so what
arrives here is the source's skin under a nearly frontal light; the neural engine's face
comes as it is.

A smiling source lit from one side carries its nasolabial fold as a dark band from the
nose to the mouth corner. In the fold zones beside the nose and mouth (`skin_weights`)
the source's middle band (between the fine detail and the low-pass) may be darker than
the target's own only by a little, and its fine detail is limited tighter. Taking the
target's middle band outright, or lifting it on all the skin, removed the fold too, but
the source's cheek, jaw and beard shading went with it: nearer-the-source fell (Biden
onto d18 100% -> 80%, hair-forehead 98% -> 75%) and the target's glasses rims showed.
The features (eyes and lids, brows, nostrils, lips and the upper lip) keep all of the
source's detail, but for one thing: on the lids (`lid_weights`) the source's detail may
be brighter than its surroundings only by LID_BRIGHT L units (softly), and only
LID_CHROMA of its colour detail is kept. A dark-skinned source's lid highlight or pale
eye shadow is +30 L against its own skin; added to a light target's skin it became a
pale, bluish patch over each eye. Its dark lid creases and lashes (identity) pass as
before; on the sockets below the brows (`socket_weights`) its band coarser than sigma /
LID_DIVISOR may be darker than the target's only as on the fold zones (a photo lit from
above: its deep sockets' shadow was a grey patch from the brow to the eye).

Where the engine shows the source's face shape (`relief`, the mesh engine's shape-move
share), the source's lightness band between sigma and RELIEF_COARSE sigma lifts the
target's where it is lighter (`_relief`): at that scale the target's low-pass is its
sockets, its brows' tone and its cheeks' relief, which read as the target's identity. It
only lifts (deepened to the source's, the sockets and brows came out grey); the levelling
(`shown`) then takes the lift's mean over the bare skin off the whole face.

All in CIELAB float32 (L 0..100), masks (S, S) float32 in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from facedub.composite.color import blur_factor, masked_blur
from facedub.composite.detail import resized, texture_box, texture_excess, vector_columns
from facedub.faces.masks import (
    box_meet,
    box_within,
    channels_of,
    convex_hull_mask,
    mask_bounds,
    polygon_mask,
)
from facedub.faces.regions import mesh_regions

CHROMA_DETAIL = 0.5  # share of the source's chroma detail kept
# The compositor's colour (a, b) split is this many times finer than its lightness split
# (`carry_detail`'s `chroma_divisor`, `_finer_chroma`).
CHROMA_DIVISOR = 4.0
DETAIL_GAIN = 2.0  # source lightness detail may reach this times the target's nearby ...
DETAIL_FLOOR = 20.0  # ... plus this many L units, softly (tanh): only extremes are tamed
SKIN_FLOOR = 10.0  # on bare skin: wrinkles and pores pass, the edge of a deep fold does not
DARK_BAND = 3.0  # L units the source's skin may be darker than the target's middle band
DARK_SOFT = 2.0  # ... and this many more, softly
FINE_DIVISOR = 4.0  # the fine band is below the low-pass sigma / this
LID_DIVISOR = 3.0  # on the lids: below sigma / this (their crease and lashes are finer)
NOSTRILS = (98, 97, 2, 326, 327, 294, 278, 4, 48, 64)  # nostrils and the nose tip
# Under the nose down to the lip's top (a moustache lives here); not out to the mouth
# corners' level beside the nose wings, where a smile's fold runs.
UPPER_LIP = (2, 97, 326, 167, 393, 37, 267, 0, 39, 269)
EYES_GROW = 1 / 24  # eyes and brows reach this share of the crop past their outlines ...
MOUTH_GROW = 1 / 96  # ... the lips, nostrils and upper lip this share
FOLD_OUT = 0.35  # the fold zones reach this many eye-corner distances out from the nose ...
FOLD_DOWN = 0.2  # ... and this many below the mouth corners
FEATURE_SOFT = 1 / 64  # and they fade into the skin over about this share (Gaussian sigma)
LID_BRIGHT = 6.0  # L units the source's lids may be brighter than their surroundings
LID_CHROMA = 0.15  # share of the source's chroma detail kept on the lids
OPENING = 0.6  # the eye opening's middle (this share of it about its centre) is no lid
# On the sockets (with `socket_skin`) both faces' base is their skin's own there: a blur of
# sigma / LID_DIVISOR over the skin only, without the eye openings (grown this share of the
# crop: the lashes and a liner's wing) and the brows.
SOCKET_EYE_GROW = 1 / 48
SOCKET_CHROMA_STEP = 4.0  # Lab units the sockets' base colour may move (`_own_sockets`)
# Round a made-up target's eyes (`eye_bands`: the sockets times each eye's band and strength,
# `_made_up_sockets`) the sockets' band lift reads the band from sigma / SOCKET_FINE_DIVISOR:
# at LID_DIVISOR it is the sockets' own base's blur (`_own_sockets`), and it lifted nothing
# there (0.11 L at most on expr-shouting; BENCHMARKS.md, Realism, fifty-sixth and
# fifty-seventh rounds).
SOCKET_FINE_DIVISOR = 9.0
# And round the eyes (`surround_weights`: the openings grown this share of the crop, the
# brows and nose left out) both bases are their skin's own, the target's eye make-up and
# the hair at its temples left out too: pixels whose colour lies beyond SKIN_LIKENESS
# deviations (lightness given SKIN_LIGHTNESS_SLACK times its spread) of the bare skin's are
# not skin. The own base holds fully only where SURROUND_SUPPORT of its blur's weight is
# skin. (Grown 1/10 it reached d10's cheekbones: light patches at 1x.)
SURROUND_GROW = 1 / 16
SKIN_LIKENESS = 3.0
SKIN_LIGHTNESS_SLACK = 3.0
SKIN_LIKENESS_FADE = 1.5  # deviations beyond SKIN_LIKENESS over which the likeness falls to 0
SURROUND_SUPPORT = 0.3
# Round each eye (`eye_band_weights`: its lid from the lash line up to the brow and the
# skin round its opening out to SURROUND_GROW of the crop, the opening itself, the brows
# and the nose left out) the target's base moves to its bare skin's there
# (`_bare_eye_base`) where it is darker and bluer than that skin: a made-up target's liner,
# lashes and eye shadow averaged into it were a grey-blue band from the brows to under the
# eyes of a face without them (expr-shouting: d10's base there L 60-65, b 13-17, her lit
# lid and under-eye skin 69-77, b 17-21). That eye's skin: its zone's pixels like the bare
# skin's colour (`_skin_likeness`) no more than EYE_SKIN_DARK L units under the zone's
# EYE_SKIN_PERCENTILE lightness, fully from EYE_SKIN_SOFT nearer (liner, lashes, iris and
# hair are 20-45 darker), blurred at sigma / LID_DIVISOR; where under EYE_SKIN_SUPPORT of
# the blur's weight is such skin (the lash line, a liner's wing), their mean. Where that
# share is small even at EYE_SKIN_REACH times the blur (her temple hair under the face's
# edge) the base holds: moved to skin there, the face's outline over her hair was a
# straight edge. The base moves as far as it is over BARE_EYE_DARK L units darker and
# BARE_EYE_BLUE b units bluer at its own lightness than that skin (`_yellowness`), fully
# from BARE_EYE_SOFT more of each: shadowed sockets (border-photo's d3: L 30-45 round the
# eyes, b 21-26) are as yellow for their lightness as their lit skin, and keep their
# light; lightened by the darkness alone, they were pale rings round a dark-skinned face's
# eyes (band +4-5 L), and a man's redder sockets are no bluer. Natural lashes averaged in
# are a little bluer: from 0.5 b units d3's upper lids lightened up to 8 L and border-photo
# read more like her (margin +0.0038 over four ids; from 1.5, 5.8 L and +0.0026).
EYE_SKIN_DARK = 8.0
EYE_SKIN_SOFT = 3.0
EYE_SKIN_PERCENTILE = 85.0
EYE_SKIN_SUPPORT = 0.3
EYE_SKIN_REACH = 3.0
BARE_EYE_DARK = 2.0
BARE_EYE_BLUE = 1.5
BARE_EYE_SOFT = 2.0
# With `relief`: the source's lightness band from sigma to this many sigmas lifts the
# target's where it is lighter (its face's relief and its features' tone at that scale),
# scaled by the ratio of the two faces' lightness there and softly limited to RELIEF_LIMIT
# L units.
RELIEF_COARSE = 3.0
RELIEF_LIMIT = 6.0
# Under the eyes (`SkinWeights.under_eyes`, from the lower lid this many eye-corner
# distances down): the face's smooth lightness, levelled on the bare skin as `_level` does,
# may be darker than the target's there by about UNDER_EYE_DARK L units, and softly by
# UNDER_EYE_SOFT more (an estimate at the fine band's scale: the test's case ends 4.6 L
# darker). It costs identity: older-glasses nearer-the-source 42% on main, 20-30% at 1 L,
# 25-30% at 2.5 L, and the margin moved toward the target on 6 of 7 cross pairs.
UNDER_EYE_DOWN = 0.45
UNDER_EYE_SIDE = 0.12  # ... and this many to either side (the engine may move the eyes)
UNDER_EYE_NOSE_GROW = 1 / 32  # the nose kept out of them grown this share of the crop
UNDER_EYE_DARK = 2.5
UNDER_EYE_SOFT = 1.0
UNDER_EYE_CHROMA = 0.2  # share of the source's chroma detail kept there (its shadow's purple)
# Where the face's darkness is hair (`hair`, the source's stubble): as the result darkens
# below the target's base it takes a hair's colour, as far as its lightness says hair
# covers the skin (a hair's lightness and chroma these shares of the skin's). Carried on
# the target's chroma, a stubble's darkness was brown: chroma per lightness 1.14-1.20
# times the target's skin above the upper lip (blink-video, lighting; BENCHMARKS.md,
# twelfth round). A neutral grey hair (chroma 0) looked ashy, bluish on Obama's skin.
HAIR_LIGHTNESS = 0.35
HAIR_CHROMA = 0.3
# The upper lip (`SkinWeights.shading`) out to under each nose wing: the texture limit and
# the colour's finer split reach it. Its shading is left to the source: lifted to the
# target's (the README pair's grey moustache shadow, 9-10 L darker than her lip) and down
# the nose's sides (grey flanks), the swaps moved toward the target in the identity
# (BENCHMARKS.md, twenty-second round).
UNDER_WINGS = (98, 327, 165, 391)
# The nose's underside, from its tip down to where it meets the upper lip and out to its
# wings (`SkinWeights.nose_base`): there the face's band from sigma / NOSE_BASE_DIVISOR to
# sigma is darker than the target's by at most DARK_BAND (+ DARK_SOFT, softly), as on the
# fold zones. A photo lit from above (Biden's broad smile) has the whole underside in one
# shadow, finer than sigma, so it came as detail: a dark, sharp-edged wedge under the nose
# tip on a target lit from the front (expr-smile-teeth: 18-20 L below d18's there). The
# target's own nostrils are dark in its band too, so they are not lifted past. Finer than
# the folds' band (a quarter of sigma): the wedge is a tenth of sigma high at its middle.
NOSE_BASE = (98, 97, 2, 326, 327, 1)
NOSE_BASE_DIVISOR = 8.0
# The nose's sides, each from the bridge beside the eye down to its wing (the hull of each
# side's points; `SkinWeights.flanks`): there the target's colour is its skin's round them,
# as much more colourful as the source's own skin there is than round it (`_colour_around`),
# by at most FLANK_GAIN and never past the target's own skin round them
# (`_chroma_ceiling`). The source's shading comes as detail in the lightness (split at
# sigma), but its colour was the target's at the finer split: the README pair's nose sides
# 8-14 L darker than hers at her lit skin's chroma read grey (BENCHMARKS.md, twenty-eighth round).
NOSE_SIDES = ((122, 193, 245, 188, 114, 47, 217, 126, 142, 209, 129, 49, 131, 198, 236, 3,
               51, 45, 64),
              (351, 417, 465, 412, 343, 277, 437, 355, 371, 429, 358, 279, 360, 420, 456,
               248, 281, 275, 294))
FLANK_GAIN = 2.0
FLANK_CHROMA_MIN = 8.0  # Lab chroma of the face's skin from which its gain is trusted whole
# The flanks' colour never past the target's own skin round them: the FLANK_PERCENTILE
# of its smooth chroma over its skin (weight over FLANK_SKIN_MIN) where the zone's blur
# at sigma is over FLANK_AROUND_MIN.
FLANK_PERCENTILE = 90.0
FLANK_SKIN_MIN = 0.5
FLANK_AROUND_MIN = 0.05
# The upper lip's colour moves to the target's skin's round it wholly where its own chroma
# there is at most the first share of that skin's, not at all from the second (a ramp:
# `_upper_lip_colour`). The boy of the two-person call reads about 0.5 right of his
# philtrum (a 8.8, b 1.7 against his cheek's a 16, b 6; his 5th percentile over the zone
# 0.67-0.71 on the first 12 frames); most targets' upper lips are a little paler in colour
# than their skin: border-photo's 5th percentile 0.81-0.82, nine more pairs' 0.82-0.91.
# Fired from any lip less colourful (3 units of chroma ramped), border-photo read 2 of 40
# smiles fewer at id 101 (BENCHMARKS.md, forty-eighth round). Thin margins both ends: 0.8
# is 0.01 under border-photo's 0.81, and the boy's 0.67-0.71 is over 0.65, so most of
# his zone moves only in part (enough: frame 29's lip reads 0.9 of his cheek's chroma).
UPPER_LIP_CHROMA_SHARE = (0.65, 0.8)
# ... and only where it is about as light as its skin round it or lighter: its lightness
# at the colour's finer split minus the skin's round it, not at all from the first
# difference down, wholly from the second up. The boy's pale lip reads +9.4 (median over
# the gated pixels of frames 20-31; its 5th percentile +6.4 at the lowest); a dark,
# neutral moustache painted on his frame 29 took his skin's colour (a 1.2 -> 11.7 in the
# composite) and is 40-50 darker (BENCHMARKS.md, forty-eighth round).
UPPER_LIP_LIGHTNESS = (-4.0, 0.0)
LOWER_LIDS = ((33, 7, 163, 144, 145, 153, 154, 155, 133),
              (263, 249, 390, 373, 374, 380, 381, 382, 362))
# The face's lightness detail scales with the light it is shown in (`light_gain`): by the
# ratio of the target's low-pass L* + LIGHT_OFFSET to the face's (L* + 16 goes as the cube
# root of luminance, so the ratio is a reflectance's under a dimmer light), never below
# LIGHT_GAIN_FLOOR and never brightened (a brighter target keeps the face's detail as is).
LIGHT_OFFSET = 16.0
LIGHT_GAIN_FLOOR = 0.25
# ... and only where the target is much dimmer: wholly at a ratio up to the first, not at
# all from the second (a ramp). A target less dim keeps the face's brows as they are: the
# least ratio in the cross pairs' brows is 0.64 (skin-tones: Biden's pale brows on Obama),
# 0.65 (readme-photo), 0.82-0.94 (the rest), self-photo's 0.39; dimmed from 0.8,
# skin-tones read 2 of 40 smiles fewer at two job ids (frames at the threshold).
LIGHT_DIMMED = (0.5, 0.62)
# A gain nowhere under 1 by more than this is none (under 0.3 L* on a brow 28 darker than
# its skin): the ramp's tail in the zone's soft edge moves no brow, only pixels.
LIGHT_GAIN_NONE = 0.01
Box = tuple[slice, slice]  # rows and columns of an image


def carry_detail(face_lab: np.ndarray, target_lab: np.ndarray, mask: np.ndarray,
                 sigma: float, chroma_detail: float = CHROMA_DETAIL,
                 skin: np.ndarray | None = None, lids: np.ndarray | None = None,
                 shown: np.ndarray | None = None, relief: float = 0.0,
                 under_eyes: np.ndarray | None = None, hair: np.ndarray | None = None,
                 sockets: np.ndarray | None = None,
                 socket_skin: np.ndarray | None = None,
                 chroma_divisor: float = CHROMA_DIVISOR,
                 bare: np.ndarray | None = None,
                 surround: np.ndarray | None = None,
                 target_lightness: np.ndarray | None = None,
                 region: np.ndarray | None = None,
                 shading: np.ndarray | None = None,
                 flanks: np.ndarray | None = None,
                 brows: np.ndarray | None = None,
                 eye_bands: tuple[tuple[np.ndarray, np.ndarray], tuple[float, float]]
                 | None = None,
                 into_face: bool = False,
                 nose_base: np.ndarray | None = None,
                 light: np.ndarray | None = None) -> np.ndarray:
    """The target's low-pass (Gaussian `sigma` pixels, inside `mask`) plus the face's
    high-pass, lightness detail limited and chroma detail scaled by `chroma_detail`.
    Where `skin` (S, S) in [0, 1] is given, the face's band between sigma / FINE_DIVISOR
    and sigma is darker than the target's there by at most DARK_BAND (+ DARK_SOFT,
    softly), and its fine detail is limited by SKIN_FLOOR instead of DETAIL_FLOOR.
    Where `lids` (S, S) in [0, 1] is given, the face's lightness detail is brighter by at
    most LID_BRIGHT (softly) and only LID_CHROMA of its chroma detail is kept.
    Where `shown` (S, S) in [0, 1] is given (the blend's alpha times the bare skin,
    `SkinWeights.bare`), the result's mean there is moved to the target's (`_level`).
    `relief` in [0, 1]: the share of the face's own lightness band between sigma and
    RELIEF_COARSE sigma that lifts the target's where it is lighter (`_relief`).
    Where `under_eyes` (S, S) in [0, 1] is given, the result's smooth lightness there,
    levelled on `shown` (else `mask`), is darker than the target's by at most
    UNDER_EYE_DARK (+ UNDER_EYE_SOFT, softly) (`_under_eye_lift`), and only
    UNDER_EYE_CHROMA of the face's chroma detail is kept.
    Where `hair` (S, S) in [0, 1] is given, the result's colour goes toward grey as far
    as it is darker than the target's base (`_greyed`).
    Where `sockets` and `socket_skin` (`socket_skin_weights`) are given, both low-passes
    on the sockets are the faces' skin's own there (`_own_sockets`); where `surround`
    (`surround_weights`) is given with `socket_skin`, on it too, the target's skin told
    from its make-up and hair by colour (`_skin_likeness`).
    The colour (a, b) is split at sigma / `chroma_divisor` instead (`_finer_chroma`; 1:
    at sigma like the lightness): the target's colour finer than its light is kept; where
    `bare` (S, S) in [0, 1] is given, only in its weight (the compositor passes
    `SkinWeights.colour`: the bare skin, lids and sockets, not the lips, nostrils, brows).
    Where `shown` and `target_lightness` (S, S: the target's L at full size) are given,
    the face's fine bands on the bare skin are no stronger than the target's own
    (`detail.texture_excess`; not in a stubbled source's `hair`, where its specks are
    the beard).
    Where `shading` (S, S) in [0, 1] is given (`SkinWeights.shading`: the upper lip) with
    `shown` and `target_lightness`, the face's fine bands are held there too (the upper
    lip is not bare skin), but where a stubbled source's `hair` is a beard (`_beard`).
    Where `flanks` (S, S) in [0, 1] is given (`SkinWeights.flanks`: the nose's sides)
    with a `chroma_divisor` over 1, the target's colour there is its skin's
    round them (at sigma, over the `bare` weight), as much more colourful as the face's
    own skin there is than round it (`_colour_around`): the source's shading comes with
    a shaded skin's colour.
    Where `eye_bands` (`eye_band_weights` and each eye's strength in [0, 1],
    `tone_eyes.eye_makeup`'s) are given with `sockets`, `socket_skin` and `surround`, the
    target's base round each eye of strength over 0 moves that far toward its bare skin's
    where it is darker and bluer than that (`_bare_eye_base`: a made-up target's liner and
    lashes averaged in).
    Where `nose_base` (S, S) in [0, 1] is given (`SkinWeights.nose_base`: the nose's
    underside), the face's band between sigma / NOSE_BASE_DIVISOR and sigma there is darker
    than the target's by at most DARK_BAND (+ DARK_SOFT, softly), as on `skin`.
    Where `brows` (S, S) in [0, 1] is given (`brow_weights`), the face's lightness detail
    there is dimmed as far as the target's low-pass is dimmer than the face's (`light_gain`).
    Where `light` (s, s at half size, L units: `light_change.light_change`) is given, it
    is added to the target's base: a moving light's finer marks on the face's own relief.
    Where `region` (S, S) is given (the blend's alpha: where the result is used), the
    result is computed at full size only in the box round it and `shown` (`region_box`);
    elsewhere it is `face_lab` itself.
    `face_lab` (S, S, 3); `target_lab` at that size or half of it (only its smooth bands are used).
    With `into_face`, the result is written into `face_lab` itself and returned (for a
    caller whose `face_lab` is its own temporary: a copy of the whole crop was 0.7 ms a
    frame at 440 px); else `face_lab` is left as it is.

    Everything smooth is computed at half size (the finest band edge is sigma /
    FINE_DIVISOR, several pixels); only the face's own detail is taken at full size."""
    size = face_lab.shape[0]
    half = max(8, size // 2)
    face_half = resized(face_lab, half)
    target_half = resized(target_lab, half)
    mask_half = resized(mask, half)
    shown_half = mask_half if shown is None else resized(shown, half)
    face_low = masked_blur(face_half, mask_half, sigma * half / size)
    target_low = masked_blur(target_half, mask_half, sigma * half / size)
    if chroma_divisor > 1.0:
        chroma_sigma = sigma / chroma_divisor * half / size
        bare_half = mask_half if bare is None else resized(bare, half)
        # The colour planes and their weight made once for both (the same values).
        colour_planes = _colour_planes(face_half, target_half)
        skin_weight = mask_half * bare_half
        face_low, target_low = _finer_chroma(colour_planes, face_low, target_low, bare_half,
                                             skin_weight, chroma_sigma)
        if flanks is not None:
            target_low = _colour_around(face_low, colour_planes, target_low, skin_weight,
                                        resized(flanks, half), sigma * half / size)
        if shading is not None:
            # The upper lip at least as colourful as the skin round it (`_upper_lip_colour`).
            target_low = _upper_lip_colour(target_half, target_low, skin_weight,
                                           resized(shading, half), sigma * half / size,
                                           chroma_sigma)
    # Each weight shrunk once (the sockets and under-eye zones are read twice).
    sockets_half = None if sockets is None else resized(sockets, half)
    made_up = None  # the sockets round a made-up target's eyes, by its gate's strength
    under_eyes_half = None if under_eyes is None else resized(under_eyes, half)
    if sockets_half is not None and socket_skin is not None:
        skin_mask = mask_half * resized(socket_skin, half)
        blur = sigma / LID_DIVISOR * half / size
        face_low = _own_sockets(face_half, face_low, skin_mask, sockets_half, blur)
        target_low = _own_sockets(target_half, target_low, skin_mask, sockets_half, blur)
        if surround is not None:
            # Round the sockets, the target's liner wing, lower lashes and eye shadow
            # averaged into its base were a grey-violet box round the eyes of a face
            # without them, its lower edge under the eyes (expr-shouting; BENCHMARKS.md,
            # nineteenth round). There both bases are their skin's (the target's told by
            # its colour too), both ways: a face's own eyes averaged into its base cancel
            # the target's (lifting the target's side only, hair-forehead's streamer came
            # out with pale rings round Kit Harington's eyes).
            zone = resized(surround, half) * (1.0 - sockets_half)
            # `_own_sockets` reads the skin weight only in the zone's blur box: the
            # likeness (a sixth of `carry_detail` over the whole crop) only there.
            target_skin = np.zeros_like(skin_mask)
            boxes = _blur_boxes(zone, blur)
            if boxes is not None:
                read = boxes[1]
                target_skin[read] = skin_mask[read] * _skin_likeness(target_half, shown_half,
                                                                     read)
            face_low = _own_sockets(face_half, face_low, skin_mask, zone, blur, supported=True)
            target_low = _own_sockets(target_half, target_low, target_skin, zone, blur,
                                      supported=True)
        if eye_bands is not None:  # the target's base round each eye its bare skin's
            bands, strengths = eye_bands
            bands_half = [resized(band, half) if strength > 0.0 else None
                          for band, strength in zip(bands, strengths, strict=True)]
            target_low = _bare_eye_bases(target_half, target_low, skin_mask, shown_half,
                                         bands_half, strengths, blur)
            made_up = _made_up_sockets(sockets_half, bands_half, strengths)
    limit = DETAIL_GAIN * _local_detail(target_half[..., 0] - target_low[..., 0],
                                        sigma * half / size) + DETAIL_FLOOR
    face_base, target_base = face_low, target_low  # what the face's detail is taken from
    # On the brows, the face's lightness detail dimmed as far as the target's light is
    # dimmer (`light_gain`).
    gain = None if brows is None else light_gain(face_low[..., 0], target_low[..., 0],
                                                 resized(brows, half))
    lifts = []  # L units the target's base is lifted by, where the face's band is darker
    if skin is not None:
        # On skin the source's middle band may be darker than the target's there by
        # DARK_BAND, and softly by DARK_SOFT more: a smile's fold lit from one side (a
        # dark band from the nose to the mouth corner) is flattened, the rest of the
        # source's cheeks and chin (their shape: identity) stays.
        skin_half = resized(skin, half)
        lifts.append(_band_lift(face_half, target_half, face_low, target_low,
                                sigma / FINE_DIVISOR * half / size, skin_half))
        limit -= (DETAIL_FLOOR - SKIN_FLOOR) * skin_half
    if sockets_half is not None:
        # On the sockets likewise (the lids below the brows), for the band from sigma /
        # LID_DIVISOR: a photo lit from above carried its deep sockets' shadow as a grey,
        # box-like patch from the brow to the eye on a target's flat-lit lids. Their crease
        # and lashes are finer; the brows are not lifted (a source's darker, thicker brows
        # are who it is: over the brows hair-forehead lost 5 of 40 frames' likeness).
        lifts.append(_band_lift(face_half, target_half, face_low, target_low,
                                sigma / LID_DIVISOR * half / size, sockets_half))
    if made_up is not None:
        # Under the sockets' own-skin base (every photo source) the lift above reads the
        # band between that base's own blur and itself: nothing. Round a made-up target's
        # eyes, read finer: the shouting photo's creases under her raised brows, 5 L darker
        # than d10's lit brow bone, lifted there (SOCKET_FINE_DIVISOR). Gated as the
        # bare-eye base is: read for every photo source, it would move every photo pair.
        lifts.append(_band_lift(face_half, target_half, face_low, target_low,
                                sigma / SOCKET_FINE_DIVISOR * half / size, made_up))
    if nose_base is not None:
        # The nose's underside in a photo's light from above: its shadow at the target's
        # depth there (`NOSE_BASE`).
        lifts.append(_band_lift(face_half, target_half, face_low, target_low,
                                sigma / NOSE_BASE_DIVISOR * half / size,
                                resized(nose_base, half)))
    if lifts:
        target_base = target_low.copy()
        target_base[..., 0] += np.maximum.reduce(lifts)
    if relief > 0.0:
        target_base = target_base.copy() if target_base is target_low else target_base
        target_base[..., 0] += np.float32(relief) * _relief(
            face_half, target_half, mask_half, face_low, target_low, sigma * half / size)
    if light is not None:
        target_base = target_base.copy() if target_base is target_low else target_base
        target_base[..., 0] += light
    if under_eyes_half is not None:
        target_base = target_base.copy() if target_base is target_low else target_base
        target_base[..., 0] += _under_eye_lift(
            face_half[..., 0], face_base[..., 0], target_half[..., 0], target_base[..., 0],
            limit, under_eyes_half, shown_half, sigma * half / size)
    # The limit of brighter detail (where it is not `limit`: the lids), and the share of
    # chroma detail kept.
    bright = None  # the limit of brighter detail and the lids' weight it was made with
    chroma = np.full_like(limit, chroma_detail)
    if under_eyes_half is not None:
        chroma = chroma - under_eyes_half * (1.0 - UNDER_EYE_CHROMA) * chroma
    if lids is not None:
        lids_half = resized(lids, half)
        bright = (limit + lids_half * (LID_BRIGHT - limit), lids_half)
        chroma = chroma + lids_half * (LID_CHROMA - chroma)  # never below 0 under the eyes
    # Upsampled plane by plane: result = target base + limited (face - face base) in L,
    # and target base + chroma * (face - face base) in a and b.
    # The full-size arithmetic runs on contiguous planes: on the interleaved channels
    # NumPy's strided loops took 6 of the 7.5 ms of this function at 440 px. OpenCV
    # enlarges single planes with its vector code and a 9-channel image without it: the
    # nine planes at 440 px took 0.5 ms, the merged image 3.5 ms (and its split 1.5 ms);
    # the values differ in float32's last bits.
    # Only in the box round the region where the result is used (the face's box is about
    # half of the crop): the planes enlarged in it are the whole ones' there.
    box = region_box(region if shown is None or region is None else np.maximum(region, shown),
                     size)
    if box[0].stop == box[0].start:  # nothing of the face is used
        return face_lab if into_face else face_lab.copy()
    planes = [*cv2.split(face_base), *cv2.split(target_base), limit, chroma]
    smooth = _enlarged(planes if gain is None else [*planes, gain], box, size)
    texture = None  # the texture limit's weight
    if shown is not None and target_lightness is not None:
        # The source's pores and specks no stronger than her skin's. Not where a stubbled
        # source's beard zone is a beard (`_beard`): its specks are the hair (held there,
        # blink-video's moustache read as a flat grey smear; BENCHMARKS.md, nineteenth
        # round).
        # On the upper lip too (`shading`; a feature, outside the bare skin): a shaved
        # source's stubble dots under the nose were dirt on her smooth lip.
        texture = shown if shading is None else np.maximum(
            shown, shading * (mask if region is None else region))
        if hair is not None:
            texture = _beard_left_out(texture, _beard(
                face_half[..., 0], face_base[..., 0], resized(hair, half),
                sigma / BEARD_DIVISOR * half / size), size, texture is not shown)
    # The face's lightness only in the rows read: the box's and the texture limit's.
    face_lightness = _lightness_rows(face_lab, box[0] if texture is None else _spanned(
        box[0], texture_box(texture, sigma)[0]))
    face_box = face_lab[box]
    face = [face_lightness[box], cv2.extractChannel(face_box, 1),
            cv2.extractChannel(face_box, 2)]
    detail = face[0] - smooth[0]
    if gain is not None:
        detail *= smooth[8]
        # The texture limit below reads the face's fine bands as they are now shown.
        face_lightness = face_lightness.copy()
        face_lightness[box] = smooth[0] + detail
    if texture is not None and target_lightness is not None:
        detail -= texture_excess(face_lightness, target_lightness, texture, sigma, box)
    # In place on the enlarged planes' own temporaries, the same float32 operations
    # (products and sums commute to the bit): a new array for each step.
    limit = smooth[6]
    if bright is not None:
        _brighter_on_lids(limit, *bright, detail, box, size)
    lightness = np.divide(detail, limit, out=detail)
    np.tanh(lightness, out=lightness)
    lightness *= limit
    lightness += smooth[3]
    chroma_a = np.subtract(face[1], smooth[1], out=smooth[1])
    chroma_a *= smooth[7]
    chroma_a += smooth[4]
    chroma_b = np.subtract(face[2], smooth[2], out=smooth[2])
    chroma_b *= smooth[7]
    chroma_b += smooth[5]
    boxed: np.ndarray = cv2.merge([lightness, chroma_a, chroma_b])
    if shown is not None:
        # OpenCV's subtraction of a per-channel scalar: NumPy's broadcast of a (3,) array
        # over the interleaved channels took 0.7 ms at 440 px, for the same values.
        level = _level(boxed, target_half, shown, box)
        scalar = np.zeros(4, dtype=np.float64)  # OpenCV reads a (4,) float64 as a scalar
        scalar[:3] = level
        cv2.subtract(boxed, scalar, dst=boxed)
    if hair is not None:  # after the levelling: its shift of the colour is greyed too
        _grey_in_hair(boxed, smooth[3], hair[box])
    if boxed.shape == face_lab.shape and not into_face:
        return boxed
    result = face_lab if into_face else face_lab.copy()
    result[box] = boxed
    return result


def _lightness_rows(lab: np.ndarray, rows: slice) -> np.ndarray:
    """(S, S) float32: the L plane of `lab` (S, S, 3) in `rows`, 0 elsewhere."""
    lightness = np.zeros(lab.shape[:2], dtype=np.float32)
    if rows.stop > rows.start:
        cv2.extractChannel(lab[rows], 0, dst=lightness[rows])
    return lightness


def _spanned(first: slice, second: slice) -> slice:
    """The rows from the first of either to the last of either (either may be empty)."""
    if second.stop <= second.start:
        return first
    if first.stop <= first.start:
        return second
    return slice(min(first.start, second.start), max(first.stop, second.stop))


def light_gain(face_low: np.ndarray, target_low: np.ndarray, zone: np.ndarray
               ) -> np.ndarray | None:
    """(s, s) float32 in [LIGHT_GAIN_FLOOR, 1]: the factor of the face's lightness detail
    in `zone` (s, s) in [0, 1] (the brows), 1 outside it: the ratio of the target's
    low-pass lightness `target_low` (s, s) to the face's `face_low` (s, s) (L* + 16, the
    cube root of luminance), where the target's is much dimmer (LIGHT_DIMMED), as a
    reflectance's contrast dims with its light; None where it changes nothing (the
    detail as it is).

    Added as it was, a brightly lit photo's brows (28 L* under its skin at 72) came onto a
    dim, torch-lit target's skin at 24 as black painted bars, clipped at 0 (self-photo:
    the target's own brows 10-13 L* under it). Dimmed on the whole face, its features read
    less like the person: self-photo's identity distance to the target 0.351 -> 0.444
    (BENCHMARKS.md, thirty-fourth round)."""
    ratio = (target_low + LIGHT_OFFSET) / np.maximum(face_low + LIGHT_OFFSET, 1.0)
    np.clip(ratio, LIGHT_GAIN_FLOOR, 1.0, out=ratio)
    whole, none = LIGHT_DIMMED
    share = np.clip((none - ratio) / (none - whole), 0.0, 1.0)
    gain: np.ndarray = (1.0 + zone * share * (ratio - 1.0)).astype(np.float32)
    return None if float(gain.min()) > 1.0 - LIGHT_GAIN_NONE else gain


# The brows' zone of `light_gain`: their hulls grown this share of the crop (a source's
# brows are drawn where the target's landmarks put them, its hairs past their outline)
# and softened over FEATURE_SOFT.
BROW_GROW = 1 / 64


def brow_weights(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32 in [0, 1]: both brows' hulls of `face_landmarks` (478, 2+) grown
    BROW_GROW of the crop, soft-edged; built at quarter size."""
    small = max(16, size // 4)
    points = np.asarray(face_landmarks)[:, :2] * (small / size)
    regions = mesh_regions()
    brows = np.maximum(_hull(points[regions.left_eyebrow], small),
                       _hull(points[regions.right_eyebrow], small))
    soft = _blur(_grown(brows, small * BROW_GROW), small * FEATURE_SOFT)
    result: np.ndarray = cv2.resize(soft, (size, size), interpolation=cv2.INTER_LINEAR)
    return result


def region_box(region: np.ndarray | None, size: int) -> Box:
    """The box of an (S, S) crop round where `region` is above 0, its edges multiples of
    4 (whole pixels of the half- and quarter-size planes: what `carry_detail` enlarges
    and `_level` shrinks there is the whole planes' there); the whole crop where `region`
    is None or S is not a multiple of 4 (or under 16), an empty box where `region` is
    nil."""
    whole = slice(0, size), slice(0, size)
    if region is None or size % 4 or size < 16:
        return whole
    bounds = mask_bounds(region)
    if bounds is None:
        return slice(0, 0), slice(0, 0)
    rows, columns = bounds
    return (slice(rows.start // 4 * 4, min(size, (rows.stop + 3) // 4 * 4)),
            slice(columns.start // 4 * 4, min(size, (columns.stop + 3) // 4 * 4)))


def _enlarged(planes: list[np.ndarray], box: Box, size: int) -> list[np.ndarray]:
    """The (s, s) `planes` enlarged to `size` (as `resized` does), in `box` of the
    enlargement only (`region_box`: the whole, or a box with edges multiples of 4 where
    `size` is twice s): read with a pixel round it (the bilinear enlargement's reach),
    the same values as the whole planes' there."""
    if box == (slice(0, size), slice(0, size)):
        return [resized(plane, size) for plane in planes]
    half = size // 2
    read = tuple(slice(max(0, part.start // 2 - 1), min(half, part.stop // 2 + 1))
                 for part in box)
    inner = tuple(slice(part.start - 2 * near.start, part.stop - 2 * near.start)
                  for part, near in zip(box, read, strict=True))
    enlarged = []
    for plane in planes:
        part = plane[read[0], read[1]]
        large = cv2.resize(part, (2 * part.shape[1], 2 * part.shape[0]),
                           interpolation=cv2.INTER_LINEAR)
        enlarged.append(large[inner[0], inner[1]])
    return enlarged


def _finer_chroma(planes: np.ndarray, face_low: np.ndarray, target_low: np.ndarray,
                  skin: np.ndarray, weight: np.ndarray, sigma: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """`face_low` and `target_low` (s, s, 3) with, in the `skin` weight, their a and b
    planes the blur of the face's and the target's by `sigma` over `weight` (the mask
    times `skin`: the features' colour does not spread onto it); `planes` (s, s, 4): the
    face's a and b, the target's a and b (`_colour_planes`).

    The split at sigma took the target's colour only as smooth as its light: its blush,
    its rosy nose and lids and the warm shading toward its jaw (all finer than the crop
    / 16) were averaged away, and the source's colour at that scale, halved, came in
    instead. On the README's pair (a studio photo onto Katie Hill) the face came out a
    flat, greyish beige against her pink neck and ears, though its mean Lab was hers
    (levelled): per pixel, chroma per lightness 0.365 against her 0.427 (BENCHMARKS.md,
    seventeenth round). Hue is the target's own skin's at a finer scale; lightness, where
    the source's shape and identity live, keeps the coarser split, and so do the features'
    colours (brows, lips, a moustache): taken finer on the whole face, lighting's source
    (the webcam streamer onto Obama) lost a third of its top-1 retrievals (80% -> 55%).

    The four colour planes (the face's a, b and the target's) are blurred in one pass with
    one blur of the weight: blurred as two Lab images, the lightness planes too and the
    weight twice, this cost about 10 ms a face at 440 px (BENCHMARKS.md, seventeenth and
    eighteenth rounds); the values are the same to float32's last bits."""
    # Plane by plane on contiguous planes, as `carry_detail` does at full size: NumPy's
    # strided loops over the interleaved a and b took half of this function's time.
    fine = cv2.split(masked_blur(planes, weight, sigma))  # 4 x (s, s)
    finer = []
    for low, (fine_a, fine_b) in ((face_low, fine[:2]), (target_low, fine[2:])):
        lightness, a, b = cv2.split(low)
        finer.append(cv2.merge([lightness, a + skin * (fine_a - a), b + skin * (fine_b - b)]))
    return finer[0], finer[1]


def _colour_planes(face: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(s, s, 4) float32: the a and b planes of `face` and of `target` (s, s, 3), for
    `_finer_chroma` and `_colour_around` (merged once for both). Copied straight into
    place (`cv2.mixChannels`): split into six planes and merged again, 0.36 against 0.09
    ms at 220 px."""
    planes = np.empty((*face.shape[:2], 4), dtype=np.float32)
    cv2.mixChannels([face, target], [planes], [1, 0, 2, 1, 4, 2, 5, 3])
    return planes


def _colour_around(face_low: np.ndarray, planes: np.ndarray, target_low: np.ndarray,
                   skin: np.ndarray, zone: np.ndarray, sigma: float) -> np.ndarray:
    """`target_low` (s, s, 3) with, in the `zone` weight, its a and b planes the target's
    skin colour round it (the blur of the target's by `sigma` over the `skin` weight: the
    mask times the bare skin, the lips and nostrils out) made as much more colourful as the
    face's own base (`face_low`, at the finer split) is than the face's skin round it
    (its blur likewise; `planes` (s, s, 4): the face's a and b, the target's a and b), by
    at most FLANK_GAIN and never past the most colourful the target's own skin round the
    zone is (`_chroma_ceiling`).

    At the finer split the target's colour there is its own lit skin's (Katie Hill's cool,
    pale nose sides), and the source's shading, carried in the lightness, arrived without
    the colour shaded skin has: darker at her lit chroma, his nose's sides and moustache
    shadow read grey. His shaded skin is more colourful than his cheeks (chroma 31 at L 63
    against 25 at L 78). Only that gain is his, not his hue: with all of his colour
    detail at sigma there, his redder upper lip came out a +5.3 against hers and three
    of the README pair's 40 frames were retrieved as other people (BENCHMARKS.md,
    twenty-eighth round). Never less colourful than her skin round it: a stubble's grey
    would grey her nose's sides."""
    around = cv2.split(masked_blur(planes, skin, sigma))  # 4 x (s, s)
    # Bounded by the target's own colour: its skin's chroma round the zone at
    # FLANK_PERCENTILE. A fixed 2x took border-photo's warm, saturated shaded skin to an
    # orange patch beside the nose her own skin never has (BENCHMARKS.md, twenty-eighth round).
    # Per pixel only in the zone's box: beyond it the zone is 0 and `target_low` stays
    # as it is (a + 0 x (...) is a).
    box = mask_bounds(zone)
    if box is None:
        return target_low
    ceiling = _chroma_ceiling(target_low, skin, zone, sigma, box)
    around = [plane[box] for plane in around]
    part = target_low[box]
    own = np.hypot(face_low[box][..., 1], face_low[box][..., 2])
    skin_chroma = np.hypot(around[0], around[1])
    gain = np.clip(own / np.maximum(skin_chroma, 1e-3), 1.0,
                   np.clip(ceiling / np.maximum(np.hypot(around[2], around[3]), 1e-3),
                           1.0, FLANK_GAIN))
    # Trusted as far as the face's skin has colour at all: a greyscale photo's is 0 but
    # for the target's eyes and mouth kept in its margins, and their colour's spill over
    # its grey skin made orange patches beside the nose (old-photo).
    gain = 1.0 + np.minimum(skin_chroma / FLANK_CHROMA_MIN, 1.0) * (gain - 1.0)
    weight = zone[box]
    coloured = target_low.copy()
    for channel, skin_colour in ((1, around[2]), (2, around[3])):
        present = part[..., channel]
        coloured[box][..., channel] = present + weight * (gain * skin_colour - present)
    return coloured


def _upper_lip_colour(target_lab: np.ndarray, target_low: np.ndarray, skin: np.ndarray,
                      zone: np.ndarray, sigma: float, fine_sigma: float) -> np.ndarray:
    """`target_low` (s, s, 3) with, in the `zone` weight (the upper lip,
    `SkinWeights.shading`), its a and b planes moved to the target's skin colour round it
    (the blur of the target's Lab, `target_lab` (s, s, 3), by `sigma` over the `skin`
    weight without the zone) as far as that is more colourful than its own there: wholly
    where its own chroma is at most the first of UPPER_LIP_CHROMA_SHARE of the skin's, not
    at all from the second; and only where its lightness (the target's blur by
    `fine_sigma`, the colour's finer split, over the skin) is about the skin's round it or
    more (UPPER_LIP_LIGHTNESS).

    A target's upper lip can be its palest, most neutral skin (the boy of the two-person
    call under a webcam's light: L 92.6, a 8.8, b 1.7 right of the philtrum, his cheek
    beside it a 16, b 6), and the colour's finer split gives the source's upper lip that
    chroma: Rose Leslie's lip, 6 L darker than her cheek, came out a blue-grey patch at 1x
    (hair-band-photo: a 10.2, b 3.5 at L 80 beside a cheek of a 16, b 6.6, the swap's own
    compositor inputs replayed on its 320 px crop; BENCHMARKS.md,
    forty-eighth round). Only where the lip is that much paler in colour, with the skin's
    own hue: an upper lip a little less colourful than its skin (most targets' is) keeps its
    own colour (moved from any paler lip, border-photo's read smile fell by 1-2 of 40 frames
    at three job ids, as the flanks' gain there once did, `_flank_zones`). A dark
    moustache or stubble is as neutral, and took the skin's colour: a brown-red moustache
    (a painted one on the boy's frame 29, BENCHMARKS.md); it is darker than the skin."""
    # The zone's box, and the box its fine blur reads round it (`_blur_boxes`).
    boxes = _blur_boxes(zone, fine_sigma)
    if boxes is None:
        return target_low
    box, read, inner = boxes
    # The skin round the lip, not the lip itself (the compositor's colour weight holds
    # the upper lip too): its own neutral colour averaged in would hold it half way.
    around = cv2.split(masked_blur(target_lab, skin * (1.0 - zone), sigma))
    own = target_low[box]
    skin_light, skin_a, skin_b = around[0][box], around[1][box], around[2][box]
    share = np.hypot(own[..., 1], own[..., 2]) / np.maximum(np.hypot(skin_a, skin_b), 1e-3)
    most, least = UPPER_LIP_CHROMA_SHARE
    weight = zone[box] * np.clip((least - share) / (least - most), 0.0, 1.0)
    # Only a lip about as light as its skin round it or lighter, read at the colour's
    # finer split (as its own colour is): a pale lip under the light. A moustache or
    # stubble is as neutral but dark, hair and not skin to colour.
    # Blurred only round the zone's box (`_blur_boxes`, the same values): over the whole
    # half crop this blur tripled the function's time (0.33 -> 1.14 ms at 160 px).
    own_light = masked_blur(target_lab[read], skin[read], fine_sigma)[inner][..., 0]
    darkest, light = UPPER_LIP_LIGHTNESS
    weight *= np.clip((own_light - skin_light - darkest) / (light - darkest), 0.0, 1.0)
    coloured = target_low.copy()
    for channel, skin_colour in ((1, skin_a), (2, skin_b)):
        present = own[..., channel]
        coloured[box][..., channel] = present + weight * (skin_colour - present)
    return coloured


def _chroma_ceiling(target_low: np.ndarray, skin: np.ndarray, zone: np.ndarray,
                    sigma: float, box: Box | None = None) -> float:
    """The upper percentile (FLANK_PERCENTILE) of the target's smooth chroma
    (`target_low`, at the finer split) over its skin (`skin` over FLANK_SKIN_MIN) round
    the `zone` (its blur at `sigma` over FLANK_AROUND_MIN): the most colourful its own
    skin there is. 0 where no such skin (then no gain). `box`: `mask_bounds(zone)`
    where known (the blur is then made only round it, `_blur_round`)."""
    if box is None:
        part: Box = (slice(0, zone.shape[0]), slice(0, zone.shape[1]))
        around = cv2.GaussianBlur(zone, (0, 0), sigma)
    else:
        part, around = _blur_round(zone, sigma, box)
    # The chroma of the chosen pixels alone (the same values; the percentile reads
    # their sorted order, not where they lie).
    chosen = (around > FLANK_AROUND_MIN) & (skin[part] > FLANK_SKIN_MIN)
    low = target_low[part]
    chroma = np.hypot(low[..., 1][chosen], low[..., 2][chosen])
    return float(np.percentile(chroma, FLANK_PERCENTILE)) if chroma.size else 0.0


def _blur_round(zone: np.ndarray, sigma: float, box: Box) -> tuple[Box, np.ndarray]:
    """(part, blurred): `cv2.GaussianBlur(zone, (0, 0), sigma)` in `part`, the same
    values, for an (s, s) float32 `zone` that is 0 beyond `box`; beyond `part` the
    whole blur is 0 (it reaches no pixel of the box).

    Only a strip round the box is blurred: the box grown by the kernel's reach and a
    pixel more, so that the strip's own border reads zeros as the whole plane there
    does, its columns widened to OpenCV's vector blocks (`detail.vector_columns`). The
    nose's sides are a tenth of the half crop; their 111-tap blur over the whole of it
    was 0.64 ms of `carry_detail` (BENCHMARKS.md, Swap speed, thirty-sixth round)."""
    height, width = zone.shape
    # OpenCV's float kernel: cvRound(sigma * 8 + 1) | 1 taps, so its reach is half that.
    reach = (round(sigma * 8 + 1) | 1) // 2 + 1

    def grown(part: slice, limit: int) -> slice:
        return slice(max(0, part.start - reach - 1), min(limit, part.stop + reach + 1))

    rows = grown(box[0], height)
    columns = vector_columns(grown(box[1], width), width)
    blurred: np.ndarray = cv2.GaussianBlur(np.ascontiguousarray(zone[rows, columns]),
                                           (0, 0), sigma)
    return (rows, columns), blurred


def _own_sockets(lab: np.ndarray, low: np.ndarray, skin: np.ndarray, sockets: np.ndarray,
                 blur: float, supported: bool = False) -> np.ndarray:
    """`low` (s, s, 3) with, in the `sockets` weight, the blur of `lab` by `blur` pixels
    over the `skin` weight only.

    The low-pass of sigma averages the sockets with the brows, lashes, a liner and the
    eye opening: on the shouting photo onto d10 (warm, light, made-up lids) the target's
    was 4-6 L darker and 4-5 chroma greyer than its sockets' skin, and the result followed
    it: a grey, cool veil from the brow to the eye. The source's coarse shading there
    went with it as detail (its top-lit sockets' shadow). Over the skin only and at the
    lids' finer band, both bases are the skin there: the sockets take the target's own
    tone and colour, the source keeps its crease and lashes (finer); the target's liner
    and lashes, left out of the blur, do not come back.

    Computed in the box where `sockets` is above 0 (`_blur_boxes`; elsewhere `low` is
    kept as it is): the sockets are a sixth of the crop, and over the whole of it this
    took 13 of the compositor's 80 ms a frame at 440 px (twenty-first round)."""
    boxes = _blur_boxes(sockets, blur)
    if boxes is None:
        return low
    box, read, inner = boxes
    own = masked_blur(lab[read], skin[read], blur)[inner]
    part = low[box]
    change = own - part
    weight = sockets[box]
    if supported:
        # Round the sockets (`surround_weights`), where little of the blur's weight is skin
        # (the liner's wing, a temple under hair) the own base is an average of a few far
        # pixels: the coarse one holds there.
        weight = weight * np.clip(_blur(skin[read], blur)[inner] / SURROUND_SUPPORT, 0.0, 1.0)
    # The colour moves at most SOCKET_CHROMA_STEP: a made-up lid's eye shadow, next to
    # the liner, came through as a peach band and an orange streak along the upper lid.
    # Channel by channel and with the weight spread over three planes (`channels_of`), the
    # same values: NumPy's loops over a broadcast last axis of 2 or 3 made these steps
    # about twice as slow (BENCHMARKS.md, Swap speed, thirty-ninth round).
    chroma = np.hypot(change[..., 1], change[..., 2])
    step = SOCKET_CHROMA_STEP / np.maximum(chroma, SOCKET_CHROMA_STEP)
    change[..., 1] *= step
    change[..., 2] *= step
    moved = np.multiply(channels_of(weight, 3), change, out=change)
    moved += part
    blended = low.copy()
    blended[box] = moved
    return blended



def _bare_eye_bases(lab: np.ndarray, low: np.ndarray, skin: np.ndarray, shown: np.ndarray,
                    bands: list[np.ndarray | None], strengths: Sequence[float],
                    blur: float) -> np.ndarray:
    """`low` with each eye's band's base moved `strengths` of the way to its bare skin's
    (`_bare_eye_base`; an eye whose band is None is left), the skin's likeness
    (`_skin_likeness` over `shown`) read once over the boxes both blurs read."""
    boxes = [None if band is None else _blur_boxes(band, blur) for band in bands]
    reads = [found[1] for found in boxes if found is not None]
    if not reads:
        return low
    union = (slice(min(read[0].start for read in reads), max(read[0].stop for read in reads)),
             slice(min(read[1].start for read in reads), max(read[1].stop for read in reads)))
    likeness = np.zeros_like(skin)
    likeness[union] = _skin_likeness(lab, shown, union)
    for band, strength, found in zip(bands, strengths, boxes, strict=True):
        if band is not None and found is not None:
            low = _bare_eye_base(lab, low, skin, likeness, band, blur, found, strength)
    return low


def _bare_eye_base(lab: np.ndarray, low: np.ndarray, skin: np.ndarray, likeness: np.ndarray,
                   band: np.ndarray, blur: float, boxes: tuple[Box, Box, Box],
                   strength: float = 1.0) -> np.ndarray:
    """`low` (s, s, 3), the target's base, with in one eye's `band` (`eye_band_weights`)
    `strength` of the way to its bare skin's there, as far as the base is darker and
    bluer than that skin (BARE_EYE_DARK, BARE_EYE_BLUE, fully BARE_EYE_SOFT further).

    The skin is `lab`'s in the band over the `skin` weight (the eye opening and brows out)
    whose colour is like the bare skin's (`likeness`: `_skin_likeness`) and which is no
    more than EYE_SKIN_DARK under the band's EYE_SKIN_PERCENTILE lightness: a made-up
    eye's liner and lashes, its iris and the temple hair are darker by far and pass
    `_skin_likeness`'s lightness slack. Blurred at `blur` over that skin alone; where little
    of the blur's weight is such skin (EYE_SKIN_SUPPORT), the band's mean skin; where
    little is even at EYE_SKIN_REACH times the blur, `low` holds. The target's base only:
    the face's own eyes averaged into its base are left, as the target's shadowed sockets
    are (the gate), its lids' detail against a lighter base of its own left pale rings
    round a face's dark lashes (hair-forehead, nineteenth round).

    Computed in `boxes` (`_blur_boxes` of the band: the band's box, the box its blur
    reads, the first in the second); the wide blur's weights are 0 outside the band's box,
    so blurred with a zero border they are the whole image's."""
    box, read, inner = boxes
    part = lab[read]
    zone = band[read] * skin[read]
    weight = zone * likeness[read]
    chosen = weight > 0
    if float(weight.sum()) < 20.0:
        return low
    lightness = part[..., 0]
    order = np.argsort(lightness[chosen])
    cumulative = np.cumsum(weight[chosen][order])
    rank = int(np.searchsorted(cumulative, cumulative[-1] * EYE_SKIN_PERCENTILE / 100.0))
    bright = float(lightness[chosen][order][min(rank, order.size - 1)])
    bare = weight * np.clip((lightness - (bright - EYE_SKIN_DARK)) / EYE_SKIN_SOFT, 0.0, 1.0)
    total = float(bare.sum())
    if total < 20.0:
        return low
    mean = (bare.reshape(-1) @ part.reshape(-1, 3) / total).astype(np.float32)
    near = np.clip(_blur(bare, blur) / np.maximum(_blur(zone, blur), 1e-6) / EYE_SKIN_SUPPORT,
                   0.0, 1.0)
    # The values of `(mean + near[..., None] * (blurred - mean))[inner]`, made in the band's
    # box only and with the weight spread over three planes (`channels_of`): NumPy's loops
    # over a broadcast last axis of 3 are several times slower (BENCHMARKS.md, Swap speed,
    # thirty-ninth and fortieth rounds).
    base = np.subtract(masked_blur(part, bare, blur)[inner], mean)
    base = np.multiply(channels_of(near[inner], 3), base, out=base)
    base += mean
    wide = blur * EYE_SKIN_REACH
    support = np.clip(_zero_bordered_blur(bare, wide)[inner]
                      / np.maximum(_zero_bordered_blur(zone, wide)[inner], 1e-6)
                      / EYE_SKIN_SUPPORT, 0.0, 1.0)
    kept = low[box]
    change = base - kept
    # Bluer at its own lightness: the b the skin's yellowness gives there, less its b.
    blue = (_yellowness(base) - _yellowness(kept)) * (kept[..., 0] + 16.0)
    gate = (np.clip((change[..., 0] - BARE_EYE_DARK) / BARE_EYE_SOFT, 0.0, 1.0)
            * np.clip((blue - BARE_EYE_BLUE) / BARE_EYE_SOFT, 0.0, 1.0))
    moved = low.copy()
    # `kept + weight[..., None] * change`, the same values (as `base` above).
    weight = band[box] * support * gate * strength
    change = np.multiply(channels_of(weight, 3), change, out=change)
    change += kept
    moved[box] = change
    return moved


def _zero_bordered_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """`image` blurred by `sigma` as if it were 0 all round it."""
    blurred: np.ndarray = cv2.GaussianBlur(image, (0, 0), max(0.5, sigma),
                                           borderType=cv2.BORDER_CONSTANT)
    return blurred


def _yellowness(lab: np.ndarray) -> np.ndarray:
    """(s, s) float32: b over L + 16 (L* + 16 goes as the cube root of luminance: a shadow
    on skin lowers both alike, a liner or a violet eye shadow lowers b the more)."""
    yellow: np.ndarray = lab[..., 2] / (lab[..., 0] + 16.0)
    return yellow


def _blur_boxes(sockets: np.ndarray, blur: float) -> tuple[Box, Box, Box] | None:
    """For `_own_sockets` and `_band_lift`: the box where the (s, s) `sockets` weight is
    above 0, the box their blurs by `blur` read (the first grown by their kernels' reach,
    within the image), and the first within the second; None where the weight is nil.
    Where `masked_blur` blurs at a reduced size (`blur_factor` above 1, a crop over 575 px)
    the whole image is read: its reduction of a box is not that of the whole."""
    box = mask_bounds(sockets)
    if box is None:
        return None
    height, width = sockets.shape
    if blur_factor(blur) > 1:
        read: Box = (slice(0, height), slice(0, width))
    else:
        # OpenCV's float kernel reaches 4 sigma (rounded up to odd: at most a pixel more).
        reach = math.ceil(4 * max(0.5, blur)) + 2
        read = (slice(max(0, box[0].start - reach), min(height, box[0].stop + reach)),
                slice(max(0, box[1].start - reach), min(width, box[1].stop + reach)))
    inner = tuple(slice(part.start - whole.start, part.stop - whole.start)
                  for part, whole in zip(box, read, strict=True))
    return box, read, (inner[0], inner[1])


def _skin_likeness(lab: np.ndarray, reference: np.ndarray, box: Box | None = None
                   ) -> np.ndarray:
    """(s, s) float32 in [0, 1] (in `box` only, if given: the statistics are the whole
    reference's): 1 where `lab`'s colour is within SKIN_LIKENESS
    deviations of its colour in the `reference` weight (the bare skin), its lightness
    given SKIN_LIGHTNESS_SLACK times its spread (light changes lightness across a face far
    more than hue), 0 from SKIN_LIKENESS_FADE deviations further (as
    `occlusion.edge_occluders` tells hair). A liner (L 25, b +5), eye shadow (b +10) and
    dark hair (b -5) against d10's skin (b +20 to +27, spread 1-2) are far; her own
    shadowed skin is not."""
    shape = reference.shape if box is None else reference[box].shape
    weights = reference.reshape(-1).astype(np.float64)
    total = float(weights.sum())
    if total < 20.0:
        return np.ones(shape, dtype=np.float32)
    # The statistics over the reference's own pixels only (a third of the crop): the
    # others weigh nothing (the sums' float64 rounding aside).
    inside = weights > 0
    pixels = lab.reshape(-1, 3)[inside].astype(np.float64)
    chosen = weights[inside]  # gathered once for the mean and the covariance
    mean = chosen @ pixels / total
    centred = pixels - mean
    covariance = ((centred * chosen[:, None]).T @ centred / total
                  + np.diag([4.0, 1.0, 1.0]))
    covariance[0] *= SKIN_LIGHTNESS_SLACK
    covariance[:, 0] *= SKIN_LIGHTNESS_SLACK
    centred = (lab if box is None else lab[box]).reshape(-1, 3).astype(np.float64) - mean
    distance = np.sqrt(np.einsum("pj,pj->p", centred @ np.linalg.inv(covariance), centred))
    likeness: np.ndarray = np.clip(1.0 - (distance - SKIN_LIKENESS) / SKIN_LIKENESS_FADE, 0.0, 1.0
                                   ).astype(np.float32).reshape(shape)
    return likeness


def _band_lift(face: np.ndarray, target: np.ndarray, face_low: np.ndarray,
               target_low: np.ndarray, blur: float, weight: np.ndarray) -> np.ndarray:
    """(s, s) float32 L units (0 or more), times the `weight` (s, s): what lifts the
    target's low-pass so that the face's band between `blur` and its low-pass is darker
    than the target's by at most DARK_BAND, and softly DARK_SOFT more.

    Computed in the box where `weight` is above 0 (the fold zones, the sockets: 0
    elsewhere), the blurs reading their kernels' reach round it (`_blur_boxes`)."""
    lifted = np.zeros_like(weight)
    boxes = _blur_boxes(weight, blur)
    if boxes is None:
        return lifted
    box, read, inner = boxes
    face_band = _blur(face[read][..., 0], blur)[inner] - face_low[box][..., 0]
    target_band = _blur(target[read][..., 0], blur)[inner] - target_low[box][..., 0]
    excess = np.maximum(target_band - face_band - DARK_BAND, 0.0)
    lifted[box] = weight[box] * (excess - DARK_SOFT * np.tanh(excess / DARK_SOFT))
    return lifted


def _made_up_sockets(sockets: np.ndarray, bands: list[np.ndarray | None],
                     strengths: Sequence[float]) -> np.ndarray | None:
    """(s, s) float32: the `sockets` weight times each eye's band (`eye_band_weights`, None
    where its make-up gate is nil) times its strength, the larger of the two eyes; None
    where no band is given."""
    weights = [band * np.float32(strength)
               for band, strength in zip(bands, strengths, strict=True) if band is not None]
    if not weights:
        return None
    made_up: np.ndarray = sockets * np.maximum.reduce(weights)
    return made_up


def _greyed(lightness: np.ndarray, base: np.ndarray, hair: np.ndarray) -> np.ndarray:
    """(S, S) float32 in [0, 1]: the share of the colour kept where the `lightness` is
    below the target's `base` lightness, in the `hair` weight: dark hair over skin
    (coverage c of hair HAIR_LIGHTNESS as light and HAIR_CHROMA as colourful as the
    skin) leaves 1 - c (1 - HAIR_CHROMA) of the skin's chroma, so its chroma per
    lightness is no more than the skin's."""
    skin = np.maximum(base, 1.0)
    cover = np.clip((skin - lightness) / (skin * (1.0 - HAIR_LIGHTNESS)), 0.0, 1.0)
    kept: np.ndarray = 1.0 - hair * cover * (1.0 - HAIR_CHROMA)
    return kept


def _beard_left_out(texture: np.ndarray, beard: np.ndarray, size: int, own: bool
                    ) -> np.ndarray:
    """The values of `texture * (1.0 - resized(beard, size))`: the texture limit's weight
    (S, S, S `size`) without the `beard` share (s, s, `_beard`), enlarged and applied only
    in the box round the beard's own where S is twice s (`_enlarged`: the same values as
    the whole enlargement there; beyond it the enlargement is 0 and the weight times
    1 - 0 is itself). `own`: `texture` is the caller's temporary, written in place.
    The beard zone is the lower face: the whole crop's enlargement, difference and
    product are left out (BENCHMARKS.md, Swap speed, fifty-first round)."""
    if size != 2 * beard.shape[0]:
        result: np.ndarray = texture * (1.0 - resized(beard, size))
        return result
    bounds = mask_bounds(beard)
    if bounds is None:
        return texture
    # A bilinear doubling is 0 beyond 2 x start - 1 and 2 x stop (its kernel reads the
    # two nearest pixels of the half plane); the box aligned to 4 as `region_box` does.
    box = tuple(slice(max(0, 2 * part.start - 2) // 4 * 4,
                      min(size, (2 * part.stop + 2 + 3) // 4 * 4)) for part in bounds)
    rows, columns = box
    held = texture if own else texture.copy()
    held[rows, columns] *= 1.0 - _enlarged([beard], (rows, columns), size)[0]
    return held


def _brighter_on_lids(limit: np.ndarray, bright: np.ndarray, lids: np.ndarray,
                      detail: np.ndarray, box: Box, size: int) -> None:
    """`limit` (the detail's limit enlarged in `box` of an (S, S) crop, S `size`) with,
    in place, the limit of brighter detail `bright` (s, s) enlarged where `detail` (as
    `limit`) is above 0; `lids` (s, s): the lids' weight `bright` was made with.

    `bright` is `limit + lids * (LID_BRIGHT - limit)` at half size: beyond the lids it is
    the limit itself to the bit (plus 0), and so is its enlargement wherever the bilinear
    kernel reads no lid pixel. The lids are a sixth of the crop: enlarged and copied only
    round them (their box grown by the kernel's reach, its edges aligned to 4 as
    `region_box`'s, so that `_enlarged` gives the whole plane's values there), the same
    values as the whole box's enlargement and copy (BENCHMARKS.md, Swap speed,
    fifty-first round)."""
    if size != 2 * bright.shape[0]:  # no exact halving: the whole box's
        np.copyto(limit, resized(bright, size)[box], where=detail > 0)
        return
    bounds = mask_bounds(lids)
    if bounds is None:  # no lid: the limit is the brighter detail's too
        return
    # A bilinear doubling reads the two nearest half-size pixels: 2 x start - 1 to
    # 2 x stop are all that the lids reach.
    reach = tuple(slice(max(0, 2 * part.start - 2) // 4 * 4,
                        min(size, (2 * part.stop + 2 + 3) // 4 * 4)) for part in bounds)
    meet = box_meet((reach[0], reach[1]), box)
    if meet is None:
        return
    inner = box_within(meet, box)
    np.copyto(limit[inner], _enlarged([bright], meet, size)[0], where=detail[inner] > 0)


def _grey_in_hair(boxed: np.ndarray, base: np.ndarray, hair: np.ndarray) -> None:
    """`boxed` (h, w, 3) Lab with its a and b planes, in place, times `_greyed`'s share
    of its lightness over `base` in `hair` (h, w): only in the hair weight's own box.
    Beyond it the share is 1 - 0 x cover x (1 - HAIR_CHROMA), 1.0 exactly, and a and b
    times 1.0 are themselves: the same values, for the beard zone's box alone (the lower
    half of the face's box on the README pair; with `_beard_left_out` and
    `_brighter_on_lids`, `carry_detail` 30.5 -> 29.7 CPU ms a frame there, BENCHMARKS.md,
    Swap speed, fifty-first round)."""
    part = mask_bounds(hair)
    if part is None:
        return
    inside = boxed[part]  # a view: written in place
    keep = _greyed(inside[..., 0], base[part], hair[part])
    inside[..., 1] *= keep
    inside[..., 2] *= keep


def _relief(face: np.ndarray, target: np.ndarray, mask: np.ndarray, face_low: np.ndarray,
            target_low: np.ndarray, sigma: float) -> np.ndarray:
    """(s, s) float32 L units (0 or more) to add to the target's low-pass (`target_low`,
    Gaussian `sigma` inside `mask`, like `face_low`) so that its band from sigma to
    RELIEF_COARSE sigma is lifted to the face's where the face's is lighter.

    The split at sigma keeps the source's detail finer than about an eye's height; what
    lies between that and the face's broad light (the sockets under the brows, the brows'
    and lips' tone, the nose's and cheeks' relief) was the target's, and read as the
    target's identity: on older-glasses (d10 onto the older woman) the swap was nearer
    the source in 20% of 40 frames, 65% with the source's band taken both ways, 42% with
    it only lifting; border-photo 59% -> 100% (BENCHMARKS.md, tenth round). Taken both
    ways, the source's deeper sockets and darker brows came out as grey patches round the
    eyes (film-headturn, hair-forehead; blobs 4 -> 7% and 12 -> 15%), so the band only
    lifts. Its broad light (coarser than RELIEF_COARSE sigma) and all its colour stay the
    target's. Shading is relative: the band is scaled by the ratio of the target's broad
    lightness to the face's (shading multiplies the light: the same relief is fewer L
    units on a darker face), and softly limited to RELIEF_LIMIT."""
    coarse = sigma * RELIEF_COARSE
    face_coarse = masked_blur(face, mask, coarse)[..., 0]
    target_coarse = masked_blur(target, mask, coarse)[..., 0]
    ratio = np.clip(target_coarse / np.maximum(face_coarse, 1.0), 0.5, 1.5)
    band = ratio * (face_low[..., 0] - face_coarse) - (target_low[..., 0] - target_coarse)
    lifted = np.maximum(band, 0.0)
    limited: np.ndarray = (RELIEF_LIMIT * np.tanh(lifted / RELIEF_LIMIT)).astype(np.float32)
    return limited


def _under_eye_lift(face: np.ndarray, face_base: np.ndarray, target: np.ndarray,
                    target_base: np.ndarray, limit: np.ndarray, zone: np.ndarray,
                    around: np.ndarray, sigma: float) -> np.ndarray:
    """(s, s) float32 L units (0 or more) to add to `target_base` in the `zone` so that
    the result's smooth lightness there, levelled on the skin `around` as `_level` will
    level it, is darker than the target's by at most UNDER_EYE_DARK (+ UNDER_EYE_SOFT).

    A source lit from above has bright cheekbones and nose and dark skin under the eyes;
    its low-pass (the crop / 16 blur the detail is taken from) carries the bright
    surroundings, so its under-eye skin is "detail" darker than that. On a target lit
    flatly the darkness stays whole and reaches over the cheekbone: a greyish bruise
    (blink-video; BENCHMARKS.md, eleventh round). Compared smoothed at the fine band's
    scale (the lid crease and lashes pass), over the zones' bounding box only; the level
    at half this size (a mean needs no more)."""
    lift = np.zeros_like(zone)
    bounds = mask_bounds(zone > 0.01)  # OpenCV's bounding box: np.nonzero's extremes
    if bounds is None:
        return lift
    planes = (face, face_base, target, target_base, limit)
    quarter = max(8, zone.shape[0] // 2)
    weights = resized(around, quarter)
    total = float(weights.sum())
    everywhere = _darker([resized(plane, quarter) for plane in planes], blur=0.0)
    level = float((everywhere * weights).sum()) / total if total >= 1.0 else 0.0
    fine = sigma / FINE_DIVISOR
    pad = int(3 * fine) + 1
    rows, columns = bounds
    box = (slice(max(0, rows.start - pad), rows.stop + pad),
           slice(max(0, columns.start - pad), columns.stop + pad))
    excess = np.maximum(_darker([plane[box] for plane in planes], blur=fine) - level
                        - UNDER_EYE_DARK, 0.0)
    lift[box] = zone[box] * (excess - UNDER_EYE_SOFT * np.tanh(excess / UNDER_EYE_SOFT))
    return lift


def _darker(planes: list[np.ndarray], blur: float) -> np.ndarray:
    """How much darker than the target (both blurred by `blur` pixels, if any) the result
    of `carry_detail` comes out: the target's base plus the face's limited detail.
    `planes`: the face, its base, the target, its base and the detail's limit."""
    face, face_base, target, target_base, limit = planes
    if blur > 0.0:
        face, target = _blur(face, blur), _blur(target, blur)
    darker: np.ndarray = target - (target_base + limit * np.tanh((face - face_base) / limit))
    return darker


def _level(result: np.ndarray, target_half: np.ndarray, shown: np.ndarray,
           box: Box | None = None) -> np.ndarray:
    """(3,) float32: the mean Lab of `result` minus the target's, weighted by `shown`
    (at quarter size: a mean needs no more). With `box` (`region_box`, holding all of
    `shown` above 0), `result` is that box of the (S, S) crop.

    The split at sigma gives the target's light only on average over sigma: its face is
    brighter and paler in the middle than at the rim (turned away, shadowed), the low-pass
    averages them, and a source lit flatter than that brings no middle band to undo it.
    So the face's middle came out darker and warmer than the target's and its rim
    brighter; the feathered blend keeps most of the rim the target's own, so what shows
    was darker and warmer (headturn-woman: the bare skin 1.1 L darker, a +1.1, b +0.9
    against the target's). Levelled on what shows, the mean is the target's again."""
    size = shown.shape[0]
    if box is None or box == (slice(0, size), slice(0, size)):
        quarter = max(8, size // 4)
        weights = resized(shown, quarter)
        difference = resized(result, quarter) - resized(target_half, quarter)
    else:  # quarter-size pixels of the box: the whole crop's blocks there
        rows, columns = box
        small = ((columns.stop - columns.start) // 4, (rows.stop - rows.start) // 4)
        weights = cv2.resize(shown[box], small, interpolation=cv2.INTER_AREA)
        part = target_half[rows.start // 2:rows.stop // 2, columns.start // 2:columns.stop // 2]
        difference = (cv2.resize(result, small, interpolation=cv2.INTER_AREA)
                      - cv2.resize(part, small, interpolation=cv2.INTER_AREA))
    total = float(weights.sum())
    if total < 1.0:
        return np.zeros(3, dtype=np.float32)
    level: np.ndarray = (np.einsum("hwc,hw->c", difference, weights) / total
                         ).astype(np.float32)
    return level


@dataclass(frozen=True)
class SkinWeights:
    """(S, S) float32 weights of a face's skin, soft at their edges. `bare`: 1 on the bare
    skin, 0 on the features (eyes with their lids, brows, nostrils, lips and the upper lip
    between them, grown); `folds`: the same, only in the fold zones beside the nose and
    mouth (`_fold_zones`), 0 elsewhere; `under_eyes`: 1 from each lower lid down over the
    cheekbone (`_under_eye_zones`), 0 elsewhere (the lids' own skin included); `colour`:
    the skin whose colour is taken at the finer split (`carry_detail`'s `bare`): `bare`
    with the lids and sockets (all but the eye openings grown SOCKET_EYE_GROW and the
    brows, softened), so the skin round the eyes warms with the cheeks instead of
    standing grey against them (expr-shouting's sockets, seventeenth round's review);
    `shading`: the upper lip, not the nostrils nor the lips (`_shading_zones`), where the
    texture limit and the colour's finer split reach too; `flanks`: the nose's sides, not
    the nostrils nor the upper lip (`_flank_zones`), where the target's
    colour is its skin's round them, as much more colourful as the source's shaded skin
    there (`carry_detail`'s `flanks`); `nose_base`: the nose's underside (`NOSE_BASE`),
    where the source's shadow is held to the target's depth (`carry_detail`'s
    `nose_base`)."""

    bare: np.ndarray
    folds: np.ndarray
    under_eyes: np.ndarray
    colour: np.ndarray
    shading: np.ndarray
    flanks: np.ndarray
    nose_base: np.ndarray


def skin_weights(face_landmarks: np.ndarray, size: int) -> SkinWeights:
    """The `SkinWeights` of a face at `size`; built at quarter size (they are smooth)."""
    small = max(16, size // 4)
    points = np.asarray(face_landmarks)[:, :2] * (small / size)
    eyes_zone = _eyes_zone(points, small)
    bare = 1.0 - _features(points, small, eyes_zone)
    folds = bare * _fold_zones(points, small)
    under_eyes = _under_eye_zones(points, small)
    round_eyes = np.minimum(_socket_skin(points, small), eyes_zone)
    colour = np.maximum(bare, cv2.GaussianBlur(round_eyes, (0, 0), max(0.5, small * FEATURE_SOFT)))
    shading = _shading_zones(points, small)
    flanks = _flank_zones(points, small)
    nose_base = cv2.GaussianBlur(_hull(points[list(NOSE_BASE)], small), (0, 0),
                                 max(0.5, small * FEATURE_SOFT))
    return SkinWeights(*(cv2.resize(weights, (size, size), interpolation=cv2.INTER_LINEAR)
                         for weights in (bare, folds, under_eyes, colour, shading, flanks,
                                         nose_base)))


def _eyes_zone(points: np.ndarray, small: int) -> np.ndarray:
    """(s, s) float32: the eyes and brows grown as `_features` grows them (what `bare`
    leaves out round the eyes), hard-edged."""
    regions = mesh_regions()
    eyes = _eye_openings(points, small)
    for group in (regions.left_eyebrow, regions.right_eyebrow):
        eyes = np.maximum(eyes, _hull(points[group], small))
    return _grown(eyes, small * EYES_GROW)


def _eye_openings(points: np.ndarray, small: int) -> np.ndarray:
    """(s, s) float32: 1 inside both eyes' contours."""
    regions = mesh_regions()
    eyes = np.zeros((small, small), dtype=np.float32)
    for loop in (regions.left_eye, regions.right_eye):
        eyes = np.maximum(eyes, polygon_mask(points[loop], small))
    return eyes


def _features(points: np.ndarray, small: int, eyes_zone: np.ndarray) -> np.ndarray:
    """(s, s) float32: eyes, brows, nostrils, lips and the upper lip, grown and softened;
    `eyes_zone` is `_eyes_zone(points, small)`."""
    regions = mesh_regions()
    mouth = np.zeros((small, small), dtype=np.float32)
    for group in (regions.lips_outer, np.array(NOSTRILS), np.array(UPPER_LIP)):
        mouth = np.maximum(mouth, _hull(points[group], small))
    # The lids and brows reach well past their outlines (`_eyes_zone`); the mouth's
    # corners do not (a smile's fold ends there).
    features = np.maximum(eyes_zone, _grown(mouth, small * MOUTH_GROW))
    softened: np.ndarray = cv2.GaussianBlur(features, (0, 0), max(0.5, small * FEATURE_SOFT))
    return softened


def lid_weights(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32: 1 on the lids, from each eye's contour up to and over its brow
    (the eye opening itself excluded), soft-edged; built at quarter size."""
    small = max(16, size // 4)
    points = np.asarray(face_landmarks)[:, :2] * (small / size)
    regions = mesh_regions()
    zones = [_hull(np.concatenate([points[eye], points[brow]]), small)
             for eye, brow in ((regions.left_eye, regions.left_eyebrow),
                               (regions.right_eye, regions.right_eyebrow))]
    lids = cv2.GaussianBlur(np.maximum(*zones), (0, 0), max(0.5, small * FEATURE_SOFT))
    # Not the middle of the opening (the source's whites and iris, where the target's eyes
    # are not kept), but up to the lash line: eye shadow reaches it.
    for eye in (regions.left_eye, regions.right_eye):
        centre = points[eye].mean(axis=0)
        lids *= 1.0 - polygon_mask(centre + OPENING * (points[eye] - centre), small)
    weights: np.ndarray = cv2.resize(lids, (size, size), interpolation=cv2.INTER_LINEAR)
    return weights


def socket_weights(face_landmarks: np.ndarray, lids: np.ndarray) -> np.ndarray:
    """(S, S) float32: `lids` (`lid_weights` of `face_landmarks`) without the brows (their
    hull, soft-edged): the sockets from under each brow to the lash line."""
    size = lids.shape[0]
    small = max(16, size // 4)
    points = np.asarray(face_landmarks)[:, :2] * (small / size)
    regions = mesh_regions()
    brows = np.maximum(*[_hull(points[brow], small)
                         for brow in (regions.left_eyebrow, regions.right_eyebrow)])
    # Grown a pixel (of the quarter size) and softened half as much as the lids: the brows'
    # outline points lie well inside it, the socket below stays (d10's is 16 px high at 256).
    brows = cv2.GaussianBlur(_grown(brows, 1.0), (0, 0), max(0.5, small * FEATURE_SOFT / 2))
    apart: np.ndarray = cv2.resize(brows, (size, size), interpolation=cv2.INTER_LINEAR)
    sockets: np.ndarray = lids * (1.0 - apart)
    return sockets


def socket_skin_weights(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32: 0 on the eye openings (grown SOCKET_EYE_GROW of the crop) and the
    brows (their hull grown a pixel at quarter size), 1 elsewhere; built at quarter size."""
    small = max(16, size // 4)
    points = np.asarray(face_landmarks)[:, :2] * (small / size)
    skin: np.ndarray = cv2.resize(_socket_skin(points, small), (size, size),
                                  interpolation=cv2.INTER_LINEAR)
    return skin


def surround_weights(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32: 1 on the skin round the eyes, the eye openings grown SURROUND_GROW
    of the crop (their lids, the liner's wing, the band under them), without the brows'
    hull (grown a pixel, as `_socket_skin` leaves them out) and the nose (grown as
    `_under_eye_zones` grows it), soft-edged; built at quarter size."""
    small = max(16, size // 4)
    points = np.asarray(face_landmarks)[:, :2] * (small / size)
    around = (_grown(_eye_openings(points, small), small * SURROUND_GROW)
              * _apart_from_brows_and_nose(points, small))
    soft = cv2.GaussianBlur(around, (0, 0), max(0.5, small * FEATURE_SOFT))
    weights: np.ndarray = cv2.resize(soft, (size, size), interpolation=cv2.INTER_LINEAR)
    return weights


def _apart_from_brows_and_nose(points: np.ndarray, small: int) -> np.ndarray:
    """(small, small) float32: 0 on the brows' hull (grown a pixel, as `_socket_skin` leaves
    them out) and the nose (grown as `_under_eye_zones` grows it: its sides' contour and
    shading are the target's light), 1 elsewhere; `points` in the small plane's pixels."""
    regions = mesh_regions()
    brows = np.maximum(*[_grown(_hull(points[brow], small), 1.0)
                         for brow in (regions.left_eyebrow, regions.right_eyebrow)])
    nose = _grown(_hull(points[regions.nose], small), small * UNDER_EYE_NOSE_GROW)
    apart: np.ndarray = 1.0 - np.maximum(brows, nose)
    return apart


def eye_band_weights(face_landmarks: np.ndarray, size: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Two (S, S) float32 weights, one an eye (the person's left, then right): 1 on its lid
    (the hull of its outline and brow) and round its opening grown SURROUND_GROW of the
    crop, without the opening itself, the brows' hull (grown a pixel) and the nose (grown
    as `_under_eye_zones` grows it), soft-edged; built at quarter size. Where `carry_detail`
    moves a made-up target's base to each eye's own bare skin (`_bare_eye_base`)."""
    small = max(16, size // 4)
    points = np.asarray(face_landmarks)[:, :2] * (small / size)
    regions = mesh_regions()
    apart = _apart_from_brows_and_nose(points, small)
    bands = []
    for eye, brow in ((regions.left_eye, regions.left_eyebrow),
                      (regions.right_eye, regions.right_eyebrow)):
        opening = polygon_mask(points[eye], small)
        lid = _hull(np.concatenate([points[eye], points[brow]]), small)
        around = _grown(opening, small * SURROUND_GROW)
        # Not the opening: its whites at the corners took the skin's colour.
        soft = cv2.GaussianBlur(np.maximum(lid, around) * apart * (1.0 - opening), (0, 0),
                                max(0.5, small * FEATURE_SOFT))
        bands.append(cv2.resize(soft, (size, size), interpolation=cv2.INTER_LINEAR))
    return bands[0], bands[1]


def _socket_skin(points: np.ndarray, small: int) -> np.ndarray:
    """`socket_skin_weights` at the quarter size `small` (`points` at that size)."""
    regions = mesh_regions()
    features = _grown(_eye_openings(points, small), small * SOCKET_EYE_GROW)
    for brow in (regions.left_eyebrow, regions.right_eyebrow):
        features = np.maximum(features, _grown(_hull(points[brow], small), 1.0))
    skin: np.ndarray = 1.0 - features
    return skin


def _fold_zones(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) float32: the cheeks beside the nose and mouth, where a smile folds (from
    each nose wing down past the mouth corner and out to the side), soft-edged. Only
    there is the source's dark middle band lifted: elsewhere its cheek, jaw and beard
    shading is what keeps it recognisable (lifting it on the whole skin cost nearer-
    the-source on hair-forehead and headturn-man's turned frames)."""
    unit = float(np.linalg.norm(points[263] - points[33]))  # outer eye corners
    centre_x = float(points[[33, 263], 0].mean())
    zones = np.zeros((size, size), dtype=np.float32)
    for wing, corner in ((64, 61), (294, 291)):
        side = 1.0 if points[corner, 0] > centre_x else -1.0
        out, down = np.array([side * FOLD_OUT * unit, 0.0]), np.array([0.0, FOLD_DOWN * unit])
        corners = np.array([points[wing], points[wing] + out, points[corner] + out + down,
                            points[corner] + down, points[corner]])
        zones = np.maximum(zones, _hull(corners, size))
    blurred: np.ndarray = cv2.GaussianBlur(zones, (0, 0), max(0.5, size * FEATURE_SOFT * 2))
    return blurred


def _shading_zones(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) float32: the upper lip (`UPPER_LIP`) out to under the nose's wings
    (`UNDER_WINGS`), soft-edged, without the nostrils and the nose's tip and the lips (grown
    as the features are). Cut off hard there: the texture limit measures the target's own fine
    band over this weight, and her lipstick's edge and dark nostrils counted as texture
    allowed his stubble dots through beside them."""
    zones = _hull(points[list(UPPER_LIP + UNDER_WINGS)], size)
    softened = cv2.GaussianBlur(zones, (0, 0), max(0.5, size * FEATURE_SOFT))
    features = np.maximum(_hull(points[list(NOSTRILS)], size),
                          _grown(_hull(points[mesh_regions().lips_outer], size),
                                 size * MOUTH_GROW))
    kept: np.ndarray = softened * (1.0 - features)
    return kept


def _flank_zones(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) float32: the nose's sides (`NOSE_SIDES`), soft-edged, without the nostrils
    and the nose's tip. Not the upper lip: its colour there (border-photo's warm, saturated
    shaded skin, even bounded by her skin's range) moved the read smile of five of
    border-photo's frames past the 0.1 agreement (BENCHMARKS.md, twenty-eighth round)."""
    sides = np.maximum(*[_hull(points[list(side)], size) for side in NOSE_SIDES])
    softened = cv2.GaussianBlur(sides, (0, 0), max(0.5, size * FEATURE_SOFT))
    flanks: np.ndarray = softened * (1.0 - _hull(points[list(NOSTRILS)], size))
    return flanks


def _under_eye_zones(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) float32: under each eye, from its lower lid's curve UNDER_EYE_DOWN
    eye-corner distances down (at right angles to the line through the outer eye corners)
    and UNDER_EYE_SIDE to either side, soft-edged, with the nose and the eye openings
    kept out. The target's landmarks: the mesh engine's face has its eyes moved toward the
    source's shape (a few per cent of the crop), so the zone reaches past the target's
    lids at their sides and below."""
    across = points[263] - points[33]
    unit = float(np.linalg.norm(across))
    down = np.array([-across[1], across[0]]) / max(unit, 1e-6)
    down = down if down[1] > 0 else -down
    side = across / max(unit, 1e-6) * UNDER_EYE_SIDE * unit
    zones = np.zeros((size, size), dtype=np.uint8)
    for lid in LOWER_LIDS:
        # The lid's own curve on top (a hull of it covered the eye opening's lower half).
        lower = points[list(lid)]
        lower = lower[np.argsort(lower @ across)]
        top = np.concatenate([lower[:1] - side, lower, lower[-1:] + side])
        outline = np.concatenate([top, top[::-1] + UNDER_EYE_DOWN * unit * down])
        cv2.fillPoly(zones, [np.round(outline).astype(np.int32)], 1)
    blurred = _blur(zones.astype(np.float32), size * FEATURE_SOFT * 2)
    # Not on the nose nor in the eye openings, which the softening reaches: there the
    # lift softened the nose's side shading by up to 10 L (its side was at 0.6-0.85 on a
    # three-quarter face). The nose is grown so that its outline is about 0 too.
    regions = mesh_regions()
    nose = _grown(_hull(points[regions.nose], size), size * UNDER_EYE_NOSE_GROW)
    for eye in (regions.left_eye, regions.right_eye):
        nose = np.maximum(nose, polygon_mask(points[eye], size))
    kept: np.ndarray = blurred * (1.0 - _blur(nose, size * FEATURE_SOFT / 2))
    return kept


def _grown(mask: np.ndarray, radius: float) -> np.ndarray:
    grow = max(1, round(radius))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    grown: np.ndarray = cv2.dilate(mask, kernel)
    return grown


def _hull(points: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32, 1 inside the points' convex hull: a weight to blend by."""
    return convex_hull_mask(points, (size, size)).astype(np.float32)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    blurred: np.ndarray = cv2.GaussianBlur(image, (0, 0), max(0.5, sigma))
    return blurred


def _local_detail(detail: np.ndarray, sigma: float) -> np.ndarray:
    """(S, S) mean |detail| around each pixel (radius about sigma / 2), at quarter size."""
    size = detail.shape[0]
    small = max(8, size // 4)
    magnitude = cv2.resize(np.abs(detail), (small, small), interpolation=cv2.INTER_AREA)
    smooth = cv2.GaussianBlur(magnitude, (0, 0), max(0.5, sigma / 2 * small / size))
    local: np.ndarray = cv2.resize(smooth, (size, size), interpolation=cv2.INTER_LINEAR)
    return local


# In a stubbled source's beard zone (`hair`), its fine texture counts as a beard (kept
# whole) as far as the face there is darker than its own base (sigma) at the scale of
# sigma / BEARD_DIVISOR, fully from BEARD_DARK L units: hair covering the skin darkens it.
BEARD_DIVISOR = 8.0
BEARD_DARK = 1.0


def _beard(face: np.ndarray, face_base: np.ndarray, hair: np.ndarray, blur: float
           ) -> np.ndarray:
    """(s, s) float32 in [0, 1]: the share of the `hair` weight (s, s) where the face's
    lightness `face` (s, s), blurred by `blur` pixels, is darker than its `face_base`
    (s, s): a beard, whose specks are its hairs.

    The mesh engine renders a stubbled source's beard zone as hair (twelfth round), and
    the texture limit left that zone out: the streamer's moustache, held to d18's smooth
    upper lip, read as a flat grey smear (eighteenth round). But a shaved source's zone is
    skin with dots on it: Paul Rudd's stubble came over as grey dirt round Katie Hill's
    mouth and on her chin (nineteenth round). A moustache or a beard darkens the skin
    under it at the scale of the hairs' field; shaved stubble's sparse dots do not (his
    zone is lighter than his face around it). Told by the source's own darkness, not the
    target's texture: d18's and Katie Hill's chins show the same fine band (0.6-0.9 L
    in the frame; BENCHMARKS.md, twentieth round)."""
    darker = face_base - _blur(face, blur)
    beard: np.ndarray = np.clip(hair, 0.0, 1.0) * np.clip(darker / BEARD_DARK, 0.0, 1.0)
    return beard
