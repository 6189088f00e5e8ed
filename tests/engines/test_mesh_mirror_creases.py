"""engines/mesh_mirror.py's `no_darker_than_clean_direct`: where the direct warp is clean
source skin, only foreshortened, the mirror fill may lighten it but not draw the near
side's creases over it (threequarter-glasses' crescent round the far nose wing; issue 9,
BENCHMARKS.md, forty-fifth round). Its broader shade, its finer texture, and whatever it
replaces where the direct warp is unclean or other matter (hair, a light wall past the
turned cheek) stay."""

from __future__ import annotations

import numpy as np

from facedub.engines.mesh_mirror import no_darker_than_clean_direct

SIZE = 440  # the crop side of the benchmark's swaps


def _flat(value: float) -> np.ndarray:
    return np.full((SIZE, SIZE, 3), value, dtype=np.float32)


def _lifted(mirror: np.ndarray, direct: np.ndarray, clean: float = 1.0,
            wing: float = 1.0) -> np.ndarray:
    plane = np.ones((SIZE, SIZE), dtype=np.float32)
    return no_darker_than_clean_direct(mirror.copy(), direct, clean * plane, wing * plane,
                                       SIZE)


def test_a_crease_over_clean_direct_skin_mostly_comes_up_and_nothing_beside_it() -> None:
    """A 6 px line 60 levels under flat skin (190; the near wing's crease, mirrored): up
    to 167-171, two thirds of it gone; the skin beside it and the rest untouched, nothing
    made darker or over the direct skin."""
    direct = _flat(190.0)
    mirror = _flat(190.0)
    mirror[:, 218:224] = 130.0
    out = _lifted(mirror, direct)
    assert out[:, 218:224].min() > 165.0, out[128, 214:230, 0]
    assert np.array_equal(out[:, :214], mirror[:, :214])
    assert np.all(out >= mirror) and out.max() <= 190.0


def test_the_mirrors_broad_shade_stays() -> None:
    """A band 60 px wide, 30 levels under the direct skin (the far side's modelling, a
    crease's scale and more): its middle 20 px left as it is, its edges softened by at
    most 12 levels."""
    direct = _flat(190.0)
    mirror = _flat(190.0)
    mirror[:, 190:250] = 160.0
    out = _lifted(mirror, direct)
    assert np.abs(out[:, 210:230] - 160.0).max() < 1.0
    assert out[:, 190:250].max() < 173.0


def test_fine_texture_keeps_most_of_its_contrast() -> None:
    """Pixel noise of rms 8 (pores, stubble, grain) a little under the direct skin's
    level: over 95% of its rms is left, its mean within half a level."""
    noise = np.random.default_rng(0).normal(0.0, 8.0, (SIZE, SIZE)).astype(np.float32)
    mirror = np.repeat((185.0 + noise)[..., None], 3, axis=2)
    out = _lifted(mirror, _flat(190.0))
    assert out[..., 0].std() > 0.95 * mirror[..., 0].std()
    assert abs(float(out.mean() - mirror.mean())) < 0.5


def test_off_the_nose_wings_the_mirror_is_left_as_it_is() -> None:
    """The crease of the first test off the wings (a far cheek's or socket's mirrored
    modelling, which its foreshortened direct warp lacks): untouched; at a quarter of the
    way in (the smoothed wings' edge), half lifted."""
    direct = _flat(190.0)
    mirror = _flat(190.0)
    mirror[:, 218:224] = 130.0
    assert np.array_equal(_lifted(mirror, direct, wing=0.0), mirror)
    full, edge = _lifted(mirror, direct), _lifted(mirror, direct, wing=0.25)
    assert np.allclose(edge - mirror, 0.5 * (full - mirror), atol=1e-3)


def test_an_unclean_direct_warp_is_left_to_the_mirror() -> None:
    """Where the direct warp is hair or outside the photo (clean weight 0.5), the crease
    stays as the mirror has it: there the mirror replaces the direct warp."""
    direct = _flat(190.0)
    mirror = _flat(190.0)
    mirror[:, 218:224] = 130.0
    assert np.array_equal(_lifted(mirror, direct, clean=0.5), mirror)


def test_a_light_wall_in_the_direct_warp_does_not_lift_the_mirror() -> None:
    """A direct warp reading a light wall past the turned cheek (a 40 px strip of 250 over
    the mirror's skin at 120): not a crease; the mirror moves by at most 16 levels, at
    the strip's edges (the forty-fourth round's oracle lifted such places by 130)."""
    direct = _flat(120.0)
    direct[:, 200:240] = 250.0
    mirror = _flat(120.0)
    assert np.abs(_lifted(mirror, direct) - mirror).max() < 16.0


def test_a_gate_of_no_wing_turned_away_leaves_the_fill_unworked() -> None:
    """The crease of the first test under a gate of 1e-4 everywhere (the far tail of the
    need's smoothing round the wings of a frontal source, 5e-12 to 1.4e-4 on four turned
    pairs): the fill comes back as it is, the same array (main lifted the crease by a
    hundredth of a level). A gate of 2e-3 still lifts it."""
    direct = _flat(190.0)
    mirror = _flat(190.0)
    mirror[:, 218:224] = 130.0
    assert np.array_equal(_lifted(mirror, direct, wing=1e-4), mirror)
    assert _lifted(mirror, direct, wing=2e-3)[:, 218:224].min() > 130.0
