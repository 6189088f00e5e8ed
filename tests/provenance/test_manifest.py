"""Content credentials: local credentials made once, manifests signed into MP4 and JPEG,
read back valid with the facts, and reported tampered after a one-byte change."""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path

import pytest

from facedub import media
from facedub.errors import FacedubError
from facedub.provenance.credentials import CHAIN_FILE, KEY_FILE, load_or_create_credentials
from facedub.provenance.manifest import (
    COMPOSITE_SYNTHETIC,
    ProvenanceFacts,
    SigningCredentials,
    read_manifest,
    sidecar_path,
    sign_media,
    write_sidecar,
)
from facedub.provenance.mark import job_facts
from facedub.provenance.watermark import WatermarkPayload


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> SigningCredentials:
    return load_or_create_credentials(tmp_path_factory.mktemp("config") / "credentials")


@pytest.fixture(scope="module")
def facts(faces_dir: Path) -> ProvenanceFacts:
    return job_facts("mesh", {"crf": 18, "label": True, "color": "reinhard"},
                      [("source", faces_dir / "still_biden_frontal.jpg"),
                       ("target", faces_dir / "clip_liveportrait_d18_man_frontal_mouth.mp4")],
                      job_id=4242, watermark=WatermarkPayload(4242),
                      now=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC))


@pytest.fixture(scope="module")
def short_mp4(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = faces_dir / "clip_liveportrait_d18_man_frontal_mouth.mp4"
    info = media.probe(source)
    out = tmp_path_factory.mktemp("media") / "short.mp4"
    with media.VideoWriter(out, info.width, info.height, info.fps, preset="veryfast",
                           audio_from=source) as writer:
        for frame in media.iter_frames(source):
            if frame.time >= 0.5:
                break
            writer.write(frame.image, frame.time)
    return out


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_credentials_are_created_once_then_reused(tmp_path: Path) -> None:
    folder = tmp_path / "cfg" / "credentials"
    first = load_or_create_credentials(folder)
    assert first.created and first.algorithm == "es256"
    assert first.issuer == "facedub local CA"
    for name in (CHAIN_FILE, KEY_FILE):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / CHAIN_FILE).read_bytes().count(b"BEGIN CERTIFICATE") == 2  # leaf + CA
    second = load_or_create_credentials(folder)
    assert not second.created
    assert (second.chain_pem, second.key_pem) == (first.chain_pem, first.key_pem)
    assert "PRIVATE" not in repr(second)


def test_incomplete_or_mismatched_credentials_are_refused(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    load_or_create_credentials(one)
    load_or_create_credentials(two)
    (two / KEY_FILE).write_bytes((one / KEY_FILE).read_bytes())
    with pytest.raises(FacedubError, match="does not belong"):
        load_or_create_credentials(two)
    (one / KEY_FILE).unlink()
    with pytest.raises(FacedubError, match="missing"):
        load_or_create_credentials(one)


@pytest.mark.parametrize("suffix", [".mp4", ".jpg"])
def test_signed_media_reads_back_valid_then_tampered(
        suffix: str, short_mp4: Path, faces_dir: Path, tmp_path: Path,
        credentials: SigningCredentials, facts: ProvenanceFacts) -> None:
    source = short_mp4 if suffix == ".mp4" else faces_dir / "still_woman_shouting.jpg"
    signed = tmp_path / f"out{suffix}"
    sign_media(source, signed, facts, credentials)
    reading = read_manifest(signed)
    assert reading.present and reading.valid and not reading.tampered
    assert not reading.trusted  # a local CA is nobody's trust anchor
    assert reading.facts == facts
    assert reading.digital_source_type == COMPOSITE_SYNTHETIC
    assert reading.signer == credentials.subject
    assert reading.status_codes == ("signingCredential.untrusted",)

    data = signed.read_bytes()
    # One byte in the middle of the picture data: MP4 'mdat' payload, JPEG scan data.
    start = data.index(b"mdat") + 64 if suffix == ".mp4" else data.rindex(b"\xff\xda") + 64
    flip_byte(signed, (start + len(data)) // 2)
    tampered = read_manifest(signed)
    assert tampered.present and tampered.tampered and not tampered.valid
    assert any("mismatch" in code for code in tampered.status_codes)


def test_png_and_webp_can_be_signed(tmp_path: Path, credentials: SigningCredentials,
                                    facts: ProvenanceFacts, faces_dir: Path) -> None:
    image = media.read_photo(faces_dir / "still_woman_ball_occlusion_lowres.jpg")
    for suffix in (".png", ".webp"):
        plain, signed = tmp_path / f"plain{suffix}", tmp_path / f"signed{suffix}"
        media.write_photo(plain, image)
        sign_media(plain, signed, facts, credentials)
        assert read_manifest(signed).valid, suffix


def test_unsigned_and_unsupported_files(short_mp4: Path, tmp_path: Path,
                                        credentials: SigningCredentials,
                                        facts: ProvenanceFacts) -> None:
    assert not read_manifest(short_mp4).present
    mkv = tmp_path / "out.mkv"
    mkv.write_bytes(b"not really")
    assert not read_manifest(mkv).present
    with pytest.raises(FacedubError, match="cannot be embedded"):
        sign_media(short_mp4, mkv, facts, credentials)
    with pytest.raises(FacedubError, match="no such file"):
        read_manifest(tmp_path / "missing.mp4")


def test_sidecar_is_stem_dot_provenance_json(short_mp4: Path, tmp_path: Path,
                                              facts: ProvenanceFacts) -> None:
    output = tmp_path / "out.mp4"
    output.write_bytes(short_mp4.read_bytes())
    path = write_sidecar(output, facts)
    assert path == sidecar_path(output) == tmp_path / "out.mp4.provenance.json"
    record = json.loads(path.read_text())
    assert record["format"] == "facedub.provenance" and record["media"] == "out.mp4"
    assert ProvenanceFacts.from_json(record["facts"]) == facts
    assert record["facts"]["watermark"] == {"tag": "fd0b", "job_id": 4242,
                                            "payload": "fd0b1092"}
    assert record["facts"]["created"] == "2026-01-02T03:04:05+00:00"
    assert len(record["facts"]["inputs"][0]["sha256"]) == 64


def test_facts_refuse_settings_that_are_not_json(facts: ProvenanceFacts) -> None:
    with pytest.raises(FacedubError, match="JSON"):
        ProvenanceFacts(facts.tool, facts.version, facts.engine, {"out": Path("x")},
                        facts.inputs, facts.job_id, facts.created, facts.watermark)


def test_a_folder_or_a_pipe_is_named_as_what_it_is(tmp_path: Path) -> None:
    # Both exist: "no such file; check the path" sent the user to check a right path.
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    for path, said in ((tmp_path, "a folder"), (fifo, "not a regular file")):
        with pytest.raises(FacedubError, match=f"{said}; give a video or photo file"):
            read_manifest(path)
