import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facedub import media
from facedub.composite.compositor import CompositeConfig
from facedub.engines.mesh import MeshEngine
from facedub.errors import FacedubError
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.faces.identity import IdentityEncoder, distance
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.provenance import read_watermark
from facedub.provenance.verify import verify
from facedub.swap import SwapConfig, SwapResult, check_output_path, swap

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"
D3 = "clip_liveportrait_d3_woman_headturn.mp4"
CALL = "clip_ghost_two_person_videocall.mp4"
RUDD = "still_paul_rudd_frontal_studio.jpg"
BIDEN = "still_biden_frontal.jpg"


def _config(work: Path, **options: object) -> SwapConfig:
    return SwapConfig(work_dir=work, config_dir=work / "config", **options)  # type: ignore[arg-type]


def _swap(source: Path, target: Path, out: Path, work: Path, label: bool = True,
          **options: object) -> SwapResult:
    engine = MeshEngine(analysed(source, work, ExtractConfig(crop_size=256)),
                        source_path=source)
    config = _config(work, composite=CompositeConfig(**options), visible_label=label)
    return swap(target, engine, out, config)


def _face_and_surroundings(original: np.ndarray, swapped: np.ndarray) -> tuple[float, float,
                                                                               float]:
    """Mean absolute difference (0..255) inside the target's face box, mean and 99th
    percentile outside it (beyond half a face width of margin)."""
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        box = analyser.analyse(original.astype(np.uint8))[0].box
    x0, y0, x1, y1 = (int(v) for v in box)
    margin = (x1 - x0) // 2
    outside = np.ones(original.shape[:2], dtype=bool)
    outside[max(0, y0 - margin):y1 + margin, max(0, x0 - margin):x1 + margin] = False
    difference = np.abs(swapped.astype(int) - original.astype(int)).mean(axis=2)
    return (float(difference[y0:y1, x0:x1].mean()), float(difference[outside].mean()),
            float(np.percentile(difference[outside], 99)))


def _largest_face_descriptors(path: Path, encoder: IdentityEncoder) -> list[np.ndarray | None]:
    info = media.probe(path)
    descriptors: list[np.ndarray | None] = []
    with FaceAnalyser(max_faces=2, video=info.kind == "video",
                      model_path=resolve_landmarker_model()) as analyser:
        for frame in media.iter_frames(path):
            faces = analyser.analyse(frame.image, frame.time)
            descriptors.append(encoder.describe(frame.image, faces[0].landmarks) if faces else None)
    return descriptors


@pytest.fixture(scope="module")
def encoder() -> IdentityEncoder:
    return IdentityEncoder()


@pytest.mark.parametrize(("source", "target"), [(RUDD, KATIE), (D3, D12)])
def test_swapped_video_keeps_the_target_format_and_takes_the_source_identity(
        source: str, target: str, faces_dir: Path, short_clip: Callable[[str, float], Path],
        encoder: IdentityEncoder, tmp_path: Path) -> None:
    # One second of each clip (25-30 frames): every frame's identity is still compared, and
    # the 1 s clips are the ones other tests cut too (made once per session).
    target_clip = short_clip(target, 1.0)
    source_media = short_clip(source, 1.0) if source.endswith(".mp4") else faces_dir / source
    out = tmp_path / "swapped.mp4"
    result = _swap(source_media, target_clip, out, tmp_path / "work")

    before, after = media.probe(target_clip), media.probe(out)
    assert (after.width, after.height, after.fps) == (before.width, before.height, before.fps)
    assert after.frame_count == before.frame_count == result.frames
    assert after.has_audio == before.has_audio is True
    assert result.frames_swapped >= 0.95 * result.frames

    source_identity = np.mean([d for d in _largest_face_descriptors(source_media, encoder)
                               if d is not None], axis=0)
    originals = _largest_face_descriptors(target_clip, encoder)
    swapped = _largest_face_descriptors(out, encoder)
    nearer = [distance(s, source_identity) < distance(o, source_identity)
              for o, s in zip(originals, swapped, strict=True)
              if o is not None and s is not None]
    assert len(nearer) >= 0.95 * len(originals)
    assert np.mean(nearer) >= 0.9


def test_only_the_face_changes(faces_dir: Path, short_clip: Callable[[str, float], Path],
                               tmp_path: Path) -> None:
    target_clip = short_clip(KATIE, 0.5)  # its first frame is compared; 0.5 s is made once
    out = tmp_path / "swapped.mp4"
    _swap(faces_dir / RUDD, target_clip, out, tmp_path / "work", label=False)
    original = next(media.iter_frames(target_clip)).image
    swapped = next(media.iter_frames(out)).image
    face, outside, outside_p99 = _face_and_surroundings(original, swapped)
    # Outside the face: codec noise and the invisible watermark (about 40 dB PSNR) only.
    assert outside < 3.0
    assert outside_p99 < 12
    assert face > 8.0  # the face itself changed


def test_two_person_call_swaps_only_the_chosen_person(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    target_clip = short_clip(CALL, 1.0)
    first = next(media.iter_frames(target_clip)).image
    reference = tmp_path / "right.png"
    Image.fromarray(first[:, first.shape[1] // 2:]).save(reference)
    out = tmp_path / "swapped.mp4"
    engine = MeshEngine(analysed(faces_dir / RUDD, tmp_path / "work",
                                 ExtractConfig(crop_size=256)), source_path=faces_dir / RUDD)
    config = _config(tmp_path / "work", target_person=reference)
    swap(target_clip, engine, out, config)
    half = first.shape[1] // 2
    for original, swapped in zip(media.iter_frames(target_clip), media.iter_frames(out),
                                 strict=True):
        difference = np.abs(swapped.image.astype(int) - original.image.astype(int))
        assert difference[:, : half - 20].mean() < 3.0  # the left person is untouched
    assert difference[:, half:].max() > 60  # the right person's face changed


@pytest.mark.parametrize("color", ["detail", "reinhard", "histogram", "none"])
@pytest.mark.parametrize("blend", ["feather", "poisson"])
def test_every_colour_and_blend_mode_runs_on_a_photo(color: str, blend: str, faces_dir: Path,
                                                     tmp_path_factory: pytest.TempPathFactory
                                                     ) -> None:
    work = tmp_path_factory.getbasetemp() / "photo-work"
    out = tmp_path_factory.mktemp("photo") / "swapped.jpg"
    result = _swap(faces_dir / RUDD, faces_dir / BIDEN, out, work, label=False, color=color,
                   blend=blend)
    assert result.frames == result.frames_swapped == 1
    original = media.read_photo(faces_dir / BIDEN)
    swapped = media.read_photo(out)
    assert swapped.shape == original.shape
    # Inside the face the source's face replaced the target's; the watermark alone
    # changes pixels by about 2 levels, everywhere.
    face, outside, outside_p99 = _face_and_surroundings(original, swapped)
    assert face > 8.0
    assert outside < 3.0
    assert outside_p99 < 12


def test_a_fixed_job_id_makes_a_swap_repeatable_and_none_draws_a_fresh_one(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watermark's pattern depends on the job id and moves pixels by a few levels
    (enough to move identity measures of small faces): with the same id two swaps are the
    same to the pixel, and the id is the one the mark and the credentials carry."""
    work = tmp_path / "work"
    engine = MeshEngine(analysed(faces_dir / RUDD, work, ExtractConfig(crop_size=256)),
                        source_path=faces_dir / RUDD)

    def swapped(name: str, job_id: int | None) -> tuple[SwapResult, np.ndarray]:
        out = tmp_path / f"{name}.png"
        result = swap(faces_dir / BIDEN, engine, out, _config(work, job_id=job_id))
        return result, media.read_photo(out)

    first, first_image = swapped("first", 40961)
    second, second_image = swapped("second", 40961)
    assert first.job_id == second.job_id == 40961
    assert np.array_equal(first_image, second_image)
    for result in (first, second):
        checked = verify(result.output)
        assert checked.watermark.payload is not None
        assert checked.watermark.payload.job_id == 40961
        assert checked.sidecar is not None and checked.sidecar.matches
        assert checked.sidecar.facts is not None and checked.sidecar.facts.job_id == 40961
        assert checked.manifest.facts is not None and checked.manifest.facts.job_id == 40961
        assert checked.exit_code == 0 and "warning" not in "\n".join(checked.summary_lines())

    drawn = iter([7, 5000])  # None: every swap draws its own id
    # (facedub.swap the attribute is the function: the module is reached by name)
    monkeypatch.setattr(importlib.import_module("facedub.swap"), "new_job_id",
                        lambda: next(drawn))
    seven, seven_image = swapped("seven", None)
    other, other_image = swapped("other", None)
    assert (seven.job_id, other.job_id) == (7, 5000)
    for result in (seven, other):
        reading = read_watermark(result.output)
        assert reading.payload is not None and reading.payload.job_id == result.job_id
    assert not np.array_equal(seven_image, other_image)
    assert not np.array_equal(seven_image, first_image)


def test_a_job_id_out_of_the_watermark_range_is_refused(tmp_path: Path) -> None:
    for bad in (-1, 65536, True, 1.5):
        with pytest.raises(FacedubError, match=r"--job-id .*0 to 65535"):
            _config(tmp_path, job_id=bad)
    assert _config(tmp_path, job_id=0).job_id == 0
    assert _config(tmp_path, job_id=65535).job_id == 65535


def test_bad_options_and_faceless_sources_are_refused(faces_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FacedubError, match="--color"):
        CompositeConfig(color="sepia")
    with pytest.raises(FacedubError, match="--blend"):
        CompositeConfig(blend="cut")
    with pytest.raises(FacedubError, match="--crf"):
        _config(tmp_path, crf=80)
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((120, 160, 3), 200, np.uint8)).save(blank)
    with pytest.raises(FacedubError, match="no face found"):
        _swap(blank, faces_dir / BIDEN, tmp_path / "out.jpg", tmp_path / "work")
    assert not (tmp_path / "out.jpg").exists()
    with pytest.raises(FacedubError, match="must be a photo"):
        check_output_path(faces_dir / BIDEN, tmp_path / "out.mp4", ())
    with pytest.raises(FacedubError, match="overwrite an input"):
        check_output_path(faces_dir / KATIE, faces_dir / KATIE, (faces_dir / KATIE,))


def test_the_swapper_judges_a_two_stage_engine_once() -> None:
    """`FrameSwapper.two_stage`: the runtime protocol's isinstance judged at set-up, not on
    both threads every frame; None for an engine of one stage."""
    from facedub.swap import FrameSwapper

    class OneStage:
        coverage = "whole"

    class TwoStage(OneStage):
        def base_face(self, target: object) -> object:
            return target

        def finish_face(self, target: object, swapped: object) -> object:
            return swapped

    two = TwoStage()
    assert FrameSwapper(two, None, 128, {}).two_stage is two  # type: ignore[arg-type]
    assert FrameSwapper(OneStage(), None, 128, {}).two_stage is None  # type: ignore[arg-type]
