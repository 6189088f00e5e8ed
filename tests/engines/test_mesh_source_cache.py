"""The mesh engine's per-source-face analyses kept on disk beside the faceset
(mesh_source_cache): read back bit for bit by a later engine, made again when anything
they depend on changed or the file is damaged, never half written (Ctrl-C), and a folder
that cannot be written only means nothing is kept."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_source_cache, mesh_sources
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_light import light_asymmetry
from facedub.engines.mesh_source_cache import (
    CACHE_DIR,
    SourceCache,
    cache_folder,
    code_fingerprint,
    face_key,
)
from facedub.engines.mesh_sources import SourceFaces
from facedub.engines.mesh_topology import mesh_topology, mesh_vertices
from facedub.engines.registry import EngineRequest, open_mesh_engine
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import Faceset, load_faceset

SETTINGS = {"crop_size": 64, "lift_shadows": True, "no_catchlights": True}
PHOTO = "still_woman_shouting.jpg"  # an open mouth: a mouth interior of its own
LIKE = ((64, 64), np.dtype(np.float32))  # `_interior_like`'s shape and dtype


def _counted(array: np.ndarray) -> tuple[Callable[[], np.ndarray], list[int]]:
    calls: list[int] = []

    def make() -> np.ndarray:
        calls.append(1)
        return array.copy()
    return make, calls


def _interior_like() -> np.ndarray:
    interior = np.zeros((64, 64), dtype=np.float32)
    interior[40:48, 20:44] = np.linspace(0.1, 1.0, 24, dtype=np.float32)
    return interior


@pytest.mark.parametrize("array", [
    np.random.default_rng(0).integers(0, 256, (64, 64, 4), dtype=np.uint8),
    _interior_like(),  # only its non-zero box is written
    np.zeros((64, 64), dtype=np.float32),  # a closed mouth: nothing
])
def test_an_array_is_made_once_and_read_back_bit_for_bit(tmp_path: Path,
                                                           array: np.ndarray) -> None:
    make, calls = _counted(array)
    like = (array.shape, array.dtype)
    first = SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "key", like, make)
    assert np.array_equal(first, array)
    again = SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "key", like, make)  # later
    assert calls == [1]
    assert again.dtype == array.dtype and again.shape == array.shape
    assert again.tobytes() == array.tobytes()


def test_another_key_settings_or_code_makes_it_again(tmp_path: Path) -> None:
    make, calls = _counted(_interior_like())
    SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "key", LIKE, make)
    SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "moved landmarks", LIKE, make)
    unlifted = {**SETTINGS, "lift_shadows": False}
    SourceCache(tmp_path, unlifted, "code").get("k", "f", "key", LIKE, make)
    SourceCache(tmp_path, SETTINGS, "edited code").get("k", "f", "key", LIKE, make)
    assert len(calls) == 4
    SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "moved landmarks", LIKE, make)
    assert len(calls) == 4  # the last key made is the one kept


def test_a_damaged_file_is_made_again_and_replaced(tmp_path: Path) -> None:
    make, calls = _counted(_interior_like())
    cache = SourceCache(tmp_path, SETTINGS, "code")
    cache.get("k", "f", "key", LIKE, make)
    path = cache.folder / "f.k.safetensors"
    for damaged in (path.read_bytes()[:-7], b"\xff" * 5, b"{}" * 40):
        path.write_bytes(damaged)
        again = SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "key", LIKE, make)
        assert np.array_equal(again, _interior_like())
    assert len(calls) == 4
    SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "key", LIKE, make)
    assert len(calls) == 4


def test_ctrl_c_while_writing_leaves_no_file(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    written = Path.write_bytes

    def interrupted(self: Path, data: bytes) -> int:
        if not self.name.endswith(".safetensors"):  # cache.json
            return written(self, data)
        written(self, data[:len(data) // 2])
        raise KeyboardInterrupt
    monkeypatch.setattr(Path, "write_bytes", interrupted)
    cache = SourceCache(tmp_path, SETTINGS, "code")
    with pytest.raises(KeyboardInterrupt):
        cache.get("k", "f", "key", LIKE, _counted(_interior_like())[0])
    assert sorted(p.name for p in cache.folder.iterdir()) == ["cache.json"]
    monkeypatch.undo()
    make, calls = _counted(_interior_like())
    SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "key", LIKE, make)
    SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "key", LIKE, make)
    assert calls == [1]


def test_a_folder_that_cannot_be_written_keeps_nothing_and_swaps_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")  # root may write anywhere: a file in the way instead
    make, calls = _counted(_interior_like())
    cache = SourceCache(blocked, SETTINGS, "code")
    for _ in range(2):
        assert np.array_equal(cache.get("k", "f", "key", LIKE, make), _interior_like())
    assert len(calls) == 2
    assert sum("cannot be kept" in message for message in caplog.messages) == 1


def test_the_code_fingerprint_follows_the_imported_modules(
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = code_fingerprint(["facedub.engines.mesh_sources"])
    assert before is not None
    read = mesh_source_cache._module_text

    def edited(name: str) -> bytes | None:
        text = read(name)
        return text + b"\n# edited" if name == "facedub.engines.mesh_clean" and text else text
    monkeypatch.setattr(mesh_source_cache, "_module_text", edited)
    assert code_fingerprint(["facedub.engines.mesh_sources"]) not in (before, None)
    monkeypatch.setattr(mesh_source_cache, "_module_text", lambda name: None)
    assert code_fingerprint(["facedub.engines.mesh_sources"]) is None


def test_a_face_key_follows_its_landmarks_and_crop_file(tmp_path: Path) -> None:
    crop = tmp_path / "000000_00.png"
    crop.write_bytes(b"png")
    landmarks, matrix = np.ones((478, 3), np.float32), np.eye(2, 3)
    key = face_key(landmarks, matrix, crop)
    assert key == face_key(landmarks.copy(), matrix.copy(), crop)
    assert key != face_key(landmarks + np.float32(0.01), matrix, crop)
    crop.write_bytes(b"other png")
    assert key != face_key(landmarks, matrix, crop)
    assert face_key(landmarks, matrix, tmp_path / "missing.png") == ""


def _source_faces(source: Faceset, on_disk: bool = True) -> SourceFaces:
    """The source's faces, kept on disk in the faceset folder or not at all."""
    records = source.faces_of()
    vertices = [mesh_vertices(landmarks_in_crop(r.frame_landmarks, r.face_from_frame))
                for r in records]
    return SourceFaces(source, records, mesh_topology(), vertices, lift_shadows=True,
                       no_catchlights=True, cache_size=4,
                       disk=source.root if on_disk else None)


def test_a_later_engine_reads_the_cleaned_crop_and_mouth_back_unmade(
        extracted: Callable[..., Faceset], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the mesh engine's first swap from a source made (the light lifted, the clean
    weights, the mouth interior: about 70 ms a 512 px face) a later one reads from the
    faceset folder, the same to the bit; without the disk it is made every time."""
    shared = extracted(PHOTO, crop_size=128)
    shutil.copytree(shared.root, tmp_path / "faces")  # the session's faceset left unwritten
    source = load_faceset(tmp_path / "faces")
    made = _source_faces(source, on_disk=False)
    expected = made.clean_crop(0), made.interior(0)
    assert expected[1].any()
    first = _source_faces(source)
    assert np.array_equal(first.clean_crop(0), expected[0])
    assert np.array_equal(first.interior(0), expected[1])
    assert len(list((source.root / CACHE_DIR).glob("*/*.safetensors"))) == 2

    def unmade(*_: object) -> np.ndarray:
        raise AssertionError("made again")
    for name in ("clean_weights", "without_light", "mouth_interior"):
        monkeypatch.setattr(mesh_sources, name, unmade)
    later = _source_faces(source)
    assert later.clean_crop(0).tobytes() == expected[0].tobytes()
    assert later.interior(0).tobytes() == expected[1].tobytes()
    with pytest.raises(AssertionError, match="made again"):
        _source_faces(source, on_disk=False).clean_crop(0)


def test_the_speed_benchmark_removes_the_engines_cache_folder(
        benchmark_module: Callable[[str], Any], tmp_path: Path) -> None:
    """`refiner_quality.py speed --cold`: each timed swap a first swap from the source."""
    benchmark = benchmark_module("refiner_quality")
    assert benchmark.MESH_CACHE == CACHE_DIR
    cache = SourceCache(tmp_path / "source-faceset", SETTINGS, "code")
    cache.get("k", "f", "key", LIKE, _counted(_interior_like())[0])
    (tmp_path / "target-faceset" / "faces").mkdir(parents=True)
    benchmark.forget_source_cache(tmp_path)
    assert not (tmp_path / "source-faceset" / CACHE_DIR).exists()
    assert (tmp_path / "target-faceset" / "faces").is_dir()


def test_what_a_killed_swap_left_half_written_goes_with_the_next_write(tmp_path: Path) -> None:
    """A swap killed (SIGKILL, or SIGTERM while its engine thread writes) leaves at most
    a partial file beside the face's, never the face's own; the next swap makes that face
    again and removes the dead writer's partial."""
    cache = SourceCache(tmp_path, SETTINGS, "code")
    cache.folder.mkdir(parents=True)
    dead = cache.folder / ".f.k.999999999.0badcafe.partial.safetensors"  # no such process
    dead.write_bytes(b"half")
    make, calls = _counted(_interior_like())
    cache.get("k", "f", "key", LIKE, make)
    assert calls == [1] and not dead.exists()
    assert sorted(p.name for p in cache.folder.iterdir()) == ["cache.json", "f.k.safetensors"]


def test_a_face_without_a_key_is_made_and_not_kept(tmp_path: Path) -> None:
    make, calls = _counted(_interior_like())
    for _ in range(2):
        SourceCache(tmp_path, SETTINGS, "code").get("k", "f", "", LIKE, make)
    assert len(calls) == 2 and not (tmp_path / CACHE_DIR).exists()


def test_a_file_of_another_shape_or_not_a_plain_file_is_never_read(tmp_path: Path) -> None:
    """A faceset from elsewhere may hold anything under mesh-cache: a file of another
    shape (a crafted 100000 x 100000 one would be allocated), a link to a device."""
    make, calls = _counted(_interior_like())
    cache = SourceCache(tmp_path, SETTINGS, "code")
    cache.get("k", "f", "key", LIKE, make)
    assert len(calls) == 1
    for like in (((100_000, 100_000), np.dtype(np.float32)), ((64, 64), np.dtype(np.uint8))):
        cache.get("k", "f", "key", like, make)
    assert len(calls) == 3
    path = cache.folder / "f.k.safetensors"
    path.unlink()
    path.symlink_to("/dev/zero")
    cache.get("k", "f", "key", LIKE, make)  # read as it is, it would never end
    assert len(calls) == 4


def test_a_faceset_given_as_the_source_is_never_written_to(tmp_path: Path) -> None:
    """A faceset the user gave is an input: its engine's cache goes to the work folder, one
    folder per faceset path; facedub's own analysis keeps its cache beside itself."""
    work, given = tmp_path / "work", tmp_path / "my-faceset"
    own = work / "clip.mp4-0123abcd"
    assert cache_folder(own, work) == own.resolve()
    elsewhere = cache_folder(given, work)
    assert elsewhere.parent == work.resolve() and elsewhere.name.startswith("source-faces-")
    assert cache_folder(given, work) == elsewhere
    assert cache_folder(tmp_path / "other-faceset", work) != elsewhere


def test_the_swaps_engine_keeps_a_given_facesets_cache_in_the_work_folder(
        extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    """`facedub swap --source FACESET`: the faceset's files stay as they were; what the
    engine keeps goes to the work folder."""
    shutil.copytree(extracted(PHOTO, crop_size=128).root, tmp_path / "given")
    before = sorted(p.relative_to(tmp_path / "given") for p in (tmp_path / "given").rglob("*"))
    engine = open_mesh_engine(EngineRequest(work_dir=tmp_path / "work",
                                            source=tmp_path / "given"))
    try:
        assert isinstance(engine, MeshEngine)
        engine._faces.clean_crop(0)
    finally:
        engine.close()
    after = sorted(p.relative_to(tmp_path / "given") for p in (tmp_path / "given").rglob("*"))
    assert after == before
    assert len(list((tmp_path / "work").glob(f"source-faces-*/{CACHE_DIR}/*/*.safetensors"))) == 1


def test_a_later_engine_reads_the_light_asymmetry_and_crop_back_undecoded(
        extracted: Callable[..., Faceset], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The light given back (mesh_light.SourceLight) reads each blended face's
    `light_asymmetry` every frame and its crop as on disk where the target shows the
    light: a later swap reads both from the disk, the same to the bit, and decodes no
    crop's PNG (5.6 ms a 512 px face)."""
    shared = extracted(PHOTO, crop_size=128)
    shutil.copytree(shared.root, tmp_path / "faces")
    source = load_faceset(tmp_path / "faces")
    record = source.faces_of()[0]
    crop = source.load_image(record)
    expected = light_asymmetry(crop, landmarks_in_crop(record.frame_landmarks,
                                                       record.face_from_frame))
    first = _source_faces(source)
    assert first.light_asymmetry(0).tobytes() == expected.tobytes()
    assert first.unlifted(0).tobytes() == crop.tobytes()
    kept = sorted(p.name.split(".")[1] for p in (source.root / CACHE_DIR).glob("*/*.safetensors"))
    assert kept == ["asymmetry", "crop"]

    def undecoded(*_: object) -> np.ndarray:
        raise AssertionError("decoded again")
    monkeypatch.setattr(Faceset, "load_image", undecoded)
    later = _source_faces(source)
    assert later.light_asymmetry(0).tobytes() == expected.tobytes()
    assert later.unlifted(0).tobytes() == crop.tobytes()
    with pytest.raises(AssertionError, match="decoded again"):
        _source_faces(source, on_disk=False).light_asymmetry(0)


def test_a_stale_or_torn_light_asymmetry_is_made_again(
        extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    """A re-extracted face (its crop file rewritten) or a torn file: the asymmetry is
    computed from the crop again, never read stale."""
    shared = extracted(PHOTO, crop_size=128)
    shutil.copytree(shared.root, tmp_path / "faces")
    source = load_faceset(tmp_path / "faces")
    expected = _source_faces(source).light_asymmetry(0)
    (stored,) = (source.root / CACHE_DIR).glob("*/*.asymmetry.safetensors")
    stored.write_bytes(stored.read_bytes()[:-7])  # torn
    assert _source_faces(source).light_asymmetry(0).tobytes() == expected.tobytes()
    record = source.faces_of()[0]
    image = source.root / record.image
    darker = source.load_image(record)
    darker[:, :64] //= 2  # the face's crop made again, its one side darker
    cv2.imwrite(str(image), darker[..., ::-1])
    remade = _source_faces(source).light_asymmetry(0)
    assert not np.allclose(remade, expected)
    assert remade.tobytes() == light_asymmetry(
        darker, landmarks_in_crop(record.frame_landmarks, record.face_from_frame)).tobytes()


def test_a_sources_stubble_reading_is_kept_and_made_again_when_stale(
        extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    """`SourceFaces.kept_reading` (the source's stubble, 0.12 s of every swap's first
    frame): read back by a later engine without reading a crop, the same float; made again
    where a face read is re-extracted, the file is torn, or another module reads it;
    without the disk made every time."""
    shared = extracted(PHOTO, crop_size=128)
    shutil.copytree(shared.root, tmp_path / "faces")
    source = load_faceset(tmp_path / "faces")
    calls: list[int] = []

    def reading() -> float:
        calls.append(1)
        return 0.1 + 0.2  # not a short binary fraction: read back to the bit
    module = "facedub.engines.mesh_stubble"
    assert _source_faces(source).kept_reading("stubble", module, [0], reading) == 0.1 + 0.2
    assert _source_faces(source).kept_reading("stubble", module, [0], reading) == 0.1 + 0.2
    assert len(calls) == 1
    (stored,) = (source.root / CACHE_DIR).glob("*/source.stubble.safetensors")
    stored.write_bytes(stored.read_bytes()[:-3])  # torn
    _source_faces(source).kept_reading("stubble", module, [0], reading)
    assert len(calls) == 2
    record = source.faces_of()[0]
    image = source.root / record.image
    cv2.imwrite(str(image), source.load_image(record)[..., ::-1] // 2)  # re-extracted
    _source_faces(source).kept_reading("stubble", module, [0], reading)
    assert len(calls) == 3
    _source_faces(source).kept_reading("stubble", "facedub.engines.mesh_light", [0], reading)
    _source_faces(source).kept_reading("moustache", module, [0], reading)
    assert len(calls) == 5
    _source_faces(source, on_disk=False).kept_reading("stubble", module, [0], reading)
    _source_faces(source).kept_reading("stubble", module, [0], reading)
    assert len(calls) == 6


def test_the_engine_reads_its_sources_stubble_back(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., Any],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A later engine of the same source does not read its stubble from the crops again
    (`mesh_stubble.source_stubble`: 9 PNG decodes and readings), and swaps the same."""
    from facedub.engines import mesh
    shared = extracted(PHOTO, crop_size=128)
    target = first_target_face("clip_deepfacelive_twitch_streamer_webcam.mp4", 128)
    calls: list[int] = []
    original = mesh.source_stubble

    def counted(crops: Any) -> float:
        calls.append(1)
        return float(original(crops))
    monkeypatch.setattr(mesh, "source_stubble", counted)
    images = []
    for _ in range(2):
        engine = MeshEngine(shared, cache_dir=tmp_path)
        try:
            images.append(engine.swap_face(target).image)
        finally:
            engine.close()
    assert len(calls) == 1
    assert images[0].tobytes() == images[1].tobytes()
