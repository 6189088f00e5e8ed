"""Each realism measure on a real face crop: it fires when its artifact is painted in, and
stays near zero on the untouched crop and on a lightly recompressed copy (what every
swap's output goes through)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from realism_face import SIZE, Face, d18_frame_10

from facedub import media
from facedub.evaluate.realism import (
    ARTIFACT_MEASURES,
    blob_share,
    chroma_histogram,
    colour_flatness,
    doubled_edges,
    fidelity,
    invented_colour,
    measure_realism,
    texture_mismatch,
    tone_vs_neck,
    used_chroma,
)
from facedub.evaluate.sheet import SheetKeeper
from facedub.evaluate.stubble import dark_texture
from facedub.faces.align import align_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faces.masks import convex_hull_mask
from facedub.faces.regions import mesh_regions

# Below these an untouched or recompressed crop must stay; a painted artifact must exceed
# the "fires" value.
QUIET = {"invented_colour": 0.002, "blobs": 0.002, "stubble": 0.002, "doubled_edges": 0.002,
         "sharpness_mismatch": 0.15, "grain_mismatch": 0.45, "tone_vs_neck": 1.0,
         "colour_flatness": 0.05, "foreign_bands": 0.002}


@pytest.fixture(scope="module")
def face(faces_dir: Path) -> Face:
    return d18_frame_10(faces_dir)


def _recompressed(image: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_UNCHANGED))


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _rgb(lab: np.ndarray) -> np.ndarray:
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)


def test_untouched_and_recompressed_crops_are_quiet(face: Face) -> None:
    for swapped in (face.image.copy(), _recompressed(face.image)):
        realism = measure_realism(face.image, swapped, face.regions)
        for name in ARTIFACT_MEASURES:
            assert getattr(realism, name) < QUIET[name], name
    same = measure_realism(face.image, face.image.copy(), face.regions)
    assert same.face_ssim == pytest.approx(1.0) and same.edge_error == pytest.approx(0.0)


def test_regions_sit_where_the_face_is(face: Face) -> None:
    r = face.regions
    assert r.skin.sum() > 0.5 * r.face.sum()
    assert not (r.skin & r.openings).any() or (r.skin & r.openings).sum() < 0.2 * r.openings.sum()
    chin_y = face.landmarks[152, 1]
    assert r.neck.any() and np.nonzero(r.neck)[0].min() > chin_y
    assert not (r.surround & r.face).any()


def test_magenta_brows_are_invented_colour(face: Face) -> None:
    regions = mesh_regions()
    brows = (convex_hull_mask(face.landmarks[regions.left_eyebrow], (SIZE, SIZE))
             | convex_hull_mask(face.landmarks[regions.right_eyebrow], (SIZE, SIZE)))
    brows &= face.regions.face
    lab = _lab(face.image)
    lab[brows, 1] += 35.0  # towards magenta
    lab[brows, 2] -= 35.0
    painted = _rgb(lab)
    assert invented_colour(face.image, painted, face.regions.face) > 0.01
    # Colours the source's own skin has are not invented.
    source_used = used_chroma(chroma_histogram(painted, face.regions.face))
    assert invented_colour(face.image, painted, face.regions.face, source_used) < 0.002


def test_a_dark_smear_on_the_cheek_is_a_blob(face: Face) -> None:
    painted = face.image.copy()
    centre = tuple(int(v) for v in np.round(face.landmarks[205, :2]))
    cv2.circle(painted, centre, 6, (60, 40, 35), -1)
    painted = cv2.GaussianBlur(painted, (0, 0), 1.0)
    assert blob_share(face.image, painted, face.regions.skin) > 0.004
    assert blob_share(face.image, face.image, face.regions.skin) == 0.0


def _stubble(image: np.ndarray, region: np.ndarray, seed: int = 0) -> np.ndarray:
    """Ginger stubble painted into `region`: a third of its pixels darkened by 8-20 L*
    and warmed, the way a camera shows hair specks (softened at 0.6 px)."""
    rng = np.random.default_rng(seed)
    specks = region & (rng.random(region.shape) < 0.35)
    lab = _lab(image)
    lab[specks, 0] -= rng.uniform(8.0, 20.0, int(specks.sum()))
    lab[specks, 1] += 4.0
    lab[specks, 2] += 10.0
    soft: np.ndarray = cv2.GaussianBlur(_rgb(lab), (0, 0), 0.6)
    return np.where(region[..., None], soft, image)


def test_stubble_painted_on_a_smooth_chin_is_dirt_and_the_targets_own_is_not(
        face: Face) -> None:
    painted = _stubble(face.image, face.regions.beard)
    lightness = _lab(face.image)[..., 0]
    assert face.regions.beard.sum() > 0.05 * face.regions.face.sum()
    assert dark_texture(lightness, _lab(painted)[..., 0], face.regions.beard) > 0.05
    assert measure_realism(face.image, painted, face.regions).blobs < 0.002  # unseen there
    # Stubble the target has itself, shown again (recompressed, or moved by a pixel).
    own = _lab(painted)[..., 0]
    again = _lab(np.roll(_recompressed(painted), 1, axis=1))[..., 0]
    assert dark_texture(own, again, face.regions.beard) < 0.01


def test_a_second_lid_line_is_a_doubled_edge(face: Face) -> None:
    eye = face.landmarks[mesh_regions().left_eye, :2]
    upper = eye[eye[:, 1] < eye[:, 1].mean()]
    line = np.round(upper[np.argsort(upper[:, 0])] - [0.0, 6.0]).astype(np.int32)
    painted = face.image.copy()
    cv2.polylines(painted, [line], False, (50, 35, 30), 2)
    assert doubled_edges(face.image, painted, face.regions.openings) > 0.005


def test_a_soft_or_noisy_face_mismatches_its_surroundings(face: Face) -> None:
    inside = face.regions.face[..., None]
    soft = np.where(inside, cv2.GaussianBlur(face.image, (0, 0), 2.0), face.image)
    blurred = texture_mismatch(face.image, soft, face.regions.face, face.regions.surround)
    assert blurred.sharpness > 0.5
    noise = np.random.default_rng(0).normal(0.0, 6.0, face.image.shape)
    grainy = np.where(inside, np.clip(face.image + noise, 0, 255), face.image).astype(np.uint8)
    noisy = texture_mismatch(face.image, grainy, face.regions.face, face.regions.surround)
    assert noisy.grain > 0.5


def test_a_face_warmer_than_its_neck_is_measured(face: Face) -> None:
    lab = _lab(face.image)
    lab[face.regions.face, 1] += 6.0
    lab[face.regions.face, 2] += 8.0
    warm = _rgb(lab)
    assert tone_vs_neck(face.image, warm, face.regions.skin, face.regions.neck) > 5.0


def test_stubble_dots_lightened_away_are_not_a_tone_change(face: Face) -> None:
    """A shaven source on a stubbled target: the beard zone's dark dots go (the stubble
    measure's business), the skin's tone elsewhere stays: the beard zone is left out of
    the tone (with it, the lighter zone read as a paler face, occlusion-mic)."""
    lab = _lab(face.image)
    dots = face.regions.beard & (np.random.default_rng(0).random((SIZE, SIZE)) < 0.3)
    lab[dots, 0] += 15.0
    shaven = _rgb(lab)
    assert measure_realism(face.image, shaven, face.regions).tone_vs_neck < 0.3


def test_a_paler_part_of_the_face_is_a_tone_change(face: Face) -> None:
    """A tone change on less than half of the skin counts by its share (a median read the
    upper 45% of the skin made 8 L paler as no change at all)."""
    lab = _lab(face.image)
    skin = face.regions.skin & ~face.regions.beard
    rows = np.nonzero(skin)[0]
    upper = skin & (np.arange(SIZE)[:, None] < np.percentile(rows, 45))
    lab[upper, 0] += 8.0
    paler = _rgb(lab)
    assert measure_realism(face.image, paler, face.regions).tone_vs_neck > 2.5


def test_a_kept_occluder_is_left_out_of_the_tone(face: Face) -> None:
    """A face made warmer behind a hand the swap keeps over most of it: the kept hand is
    the target's, so counted in it hid the warmer face around it."""
    lab = _lab(face.image)
    lab[face.regions.face, 1] += 6.0
    lab[face.regions.face, 2] += 8.0
    warm = _rgb(lab)
    rows = np.nonzero(face.regions.skin)[0]
    hand = face.regions.skin & (np.arange(SIZE)[:, None] > np.percentile(rows, 40))
    kept = np.where(hand[..., None], face.image, warm)
    occluded = measure_realism(face.image, kept, face.regions, occluded=hand.astype(np.float32))
    assert occluded.tone_vs_neck > 5.0


def test_the_output_paths_own_tone_shift_is_the_tones_zero(face: Face) -> None:
    """What the encode does to the frame (written, no swap) is no tone error of the swap:
    a face whose output is exactly the written frame scores zero."""
    lab = _lab(face.image)
    lab[face.regions.face, 2] += 4.0
    written = _rgb(lab)
    assert measure_realism(face.image, written, face.regions).tone_vs_neck > 3.0
    assert measure_realism(face.image, written, face.regions,
                           written=written).tone_vs_neck == pytest.approx(0.0)


@pytest.fixture(scope="module")
def pale_face(faces_dir: Path) -> Face:
    """The README pair's target: Katie Hill's first frame (a pale face with pink cheeks,
    nose and lids), aligned to a 256 px crop."""
    clip = faces_dir / "clip_sadtalker_hdtf_katiehill_headturn.mp4"
    frame = next(iter(media.iter_frames(clip)))
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        found = analyser.analyse(frame.image, 0.0)
    aligned = align_face(frame.image, found[0].landmarks, SIZE, "whole")
    return Face(aligned.image, aligned.face_landmarks)


def _colour_flattened(face: Face, share: float) -> np.ndarray:
    """The face with its skin's colour pattern (a and b about their blur at a sixteenth
    of the crop) scaled by `share`: the mean colour kept, lightness unchanged."""
    lab = _lab(face.image)
    colour = np.ascontiguousarray(lab[..., 1:])
    smooth = cv2.GaussianBlur(colour, (0, 0), SIZE / 16)
    flat = smooth + share * (colour - smooth)
    lab[face.regions.face, 1:] = flat[face.regions.face]
    return _rgb(lab)


def test_a_greyer_face_is_a_flatter_colour(pale_face: Face) -> None:
    """The README pair's face read greyer and less pink than her own skin with its mean
    tone hers (tone vs neck 0.54 ΔE): its colour pattern was 0.82 of hers (flatness 0.18
    over the swap's 40 frames). Her face untouched and recompressed reads under 0.05
    (0.006 recompressed); her pink cheeks, nose and lids flattened to 0.8 of their
    contrast about their blur at a sixteenth of the crop read over 0.12 (0.15), and more
    for more, where the tone's mean does not see it (0.07 ΔE)."""
    skin = pale_face.regions.skin & ~pale_face.regions.beard
    for untouched in (pale_face.image.copy(), _recompressed(pale_face.image)):
        assert abs(colour_flatness(pale_face.image, untouched, skin)) < QUIET["colour_flatness"]
    flatter = measure_realism(pale_face.image, _colour_flattened(pale_face, 0.8),
                              pale_face.regions)
    assert flatter.colour_flatness > 0.12
    assert flatter.tone_vs_neck < 0.5
    assert (colour_flatness(pale_face.image, _colour_flattened(pale_face, 0.6), skin)
            > flatter.colour_flatness + 0.1)


def test_a_greyscale_target_leaves_the_colour_flatness_unread(pale_face: Face) -> None:
    """No colour pattern to flatten: NaN, not a share of nothing."""
    grey = np.repeat(cv2.cvtColor(pale_face.image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert np.isnan(colour_flatness(grey, grey, pale_face.regions.skin))


def test_fidelity_falls_with_blur(face: Face) -> None:
    blurred = fidelity(face.image, cv2.GaussianBlur(face.image, (0, 0), 2.0),
                       face.regions.face)
    assert 0.5 < blurred.ssim < 0.97 and blurred.psnr < 40 and blurred.edge_error > 0.2


def test_sheet_keeps_the_worst_at_full_resolution(face: Face, tmp_path: Path) -> None:
    keeper = SheetKeeper(("blobs",), worst=2, even_frames=(0, 3))
    for frame, score in enumerate([0.1, 0.9, float("nan"), 0.5, 0.2]):
        keeper.offer("blobs", score, frame, face.image, face.image)
        if keeper.wants_even(frame):
            keeper.offer_even(frame, face.image, face.image)
    rows = keeper.rows()
    assert rows[0][0].startswith("worst by blobs (frame 1: 0.9, frame 3: 0.5")
    assert rows[0][1][0].shape == (SIZE, 2 * SIZE + 2, 3)  # not scaled down
    assert keeper.write(tmp_path / "sheet.png") and (tmp_path / "sheet.png").is_file()
