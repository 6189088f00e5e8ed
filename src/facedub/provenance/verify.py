"""`verify`: read back every mark facedub leaves on its output.

Three independent signals, strongest survival first:

- the invisible watermark (survives re-encoding, resizing, cropping, screenshots),
- the embedded content credentials (C2PA; lost on re-encoding, prove integrity while kept),
- the `out.mp4.provenance.json` sidecar (only while it travels with the file).

`Verification.exit_code` is what `facedub verify` exits with: 0 when a mark was found
(the watermark, or a valid manifest), 1 when none was. Unreadable input raises
FacedubError (the CLI exits 2), unless the file carries credentials or a sidecar: a file
damaged after signing is then reported as changed. Finding no mark does not prove that
media is authentic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facedub import media
from facedub.errors import FacedubError
from facedub.fsutil import sha256_file
from facedub.provenance.manifest import (
    COMPOSITE_SYNTHETIC,
    ManifestReading,
    ProvenanceFacts,
    legacy_sidecar_path,
    read_manifest,
    sidecar_path,
)
from facedub.provenance.watermark import FACEDUB_TAG, WatermarkReading, read_watermark


@dataclass(frozen=True)
class SidecarReading:
    """The `.provenance.json` beside the media, if any. `matches`: its recorded sha256 is
    the file's (the file is byte-for-byte what facedub wrote). `unreadable`: why it could
    not be read ("" when it was): such a sidecar says nothing about the file, neither that
    it matches nor that it was changed."""

    path: Path
    matches: bool
    facts: ProvenanceFacts | None
    unreadable: str = ""

    @property
    def readable(self) -> bool:
        return not self.unreadable


@dataclass(frozen=True)
class Verification:
    """Everything `verify` found for one media file."""

    path: Path
    watermark: WatermarkReading
    manifest: ManifestReading
    sidecar: SidecarReading | None

    @property
    def marked(self) -> bool:
        return self.watermark.found or (self.manifest.present and self.manifest.valid)

    @property
    def exit_code(self) -> int:
        return 0 if self.marked else 1

    def to_json(self) -> dict[str, Any]:
        mark = self.watermark
        manifest = self.manifest
        return {
            "path": str(self.path),
            "marked": self.marked,
            "exit_code": self.exit_code,
            "watermark": {
                "found": mark.found,
                "tag": f"{FACEDUB_TAG:04x}" if mark.found else None,
                "job_id": mark.payload.job_id if mark.payload else None,
                "score": round(mark.score, 2),
                "threshold": mark.threshold if mark.frames_read else None,
                "frames_read": mark.frames_read,
                "frames_agreeing": round(mark.frames_agreeing, 3),
                "scale": [round(s, 3) for s in mark.scale],
                "damage": mark.damage,
            },
            "manifest": {
                "present": manifest.present, "valid": manifest.valid,
                "tampered": manifest.tampered, "trusted": manifest.trusted,
                "state": manifest.state, "signer": manifest.signer, "issuer": manifest.issuer,
                "digital_source_type": manifest.digital_source_type,
                "status_codes": list(manifest.status_codes),
                "facts": manifest.facts.to_json() if manifest.facts else None,
            },
            "sidecar": None if self.sidecar is None else {
                "path": str(self.sidecar.path), "matches": self.sidecar.matches,
                "unreadable": self.sidecar.unreadable or None,
                "facts": self.sidecar.facts.to_json() if self.sidecar.facts else None,
            },
        }

    def summary_lines(self) -> list[str]:
        """A few lines for people: one per signal, then the verdict."""
        lines = [_watermark_line(self.watermark), _manifest_line(self.manifest)]
        if self.sidecar is not None:
            lines.append(_sidecar_line(self.sidecar))
        conflict = _job_conflict(self)
        if conflict:
            lines.append(conflict)
        lines.append(_verdict_line(self))
        return lines


def verify(media_path: Path, max_frames: int = 150) -> Verification:
    """Read the watermark, the embedded manifest and the sidecar of one video or photo."""
    media_path = Path(media_path)
    manifest = read_manifest(media_path)
    sidecar = _read_sidecar(media_path)
    try:
        watermark = read_watermark(media_path, max_frames=max_frames)
    except media.DecodeError as error:
        # Junk (no media at all) fails to parse as credentials too: only credentials that
        # parsed, or a sidecar, make an undecodable file facedub's.
        if not (manifest.present and manifest.parsed) and (sidecar is None
                                                           or not sidecar.readable):
            raise
        # Bytes changed inside the picture can leave no frame to decode; the credentials
        # and the sidecar still say the file is not what was signed, which is the answer.
        watermark = WatermarkReading(False, None, 0.0, 0.0, 0, 0.0, damage=str(error))
    return Verification(media_path, watermark, manifest, sidecar)


def _sidecar_line(sidecar: SidecarReading) -> str:
    if not sidecar.readable:
        return (f"sidecar: {sidecar.path.name} unreadable ({sidecar.unreadable}); it says "
                "nothing about this file")
    state = ("matches this file" if sidecar.matches
             else "does NOT match this file (edited or re-encoded since)")
    return f"sidecar: {sidecar.path.name} {state}"


def _verdict_line(result: Verification) -> str:
    if result.marked:
        return "verdict: marked as AI-generated by facedub"
    if result.manifest.present and result.manifest.parsed:
        return ("verdict: carries content credentials, but the file was changed since it "
                "was signed, and no watermark was found")
    return "verdict: no facedub marks found (this does not prove the media is authentic)"


def _read_sidecar(media_path: Path) -> SidecarReading | None:
    path = _find_sidecar(media_path)
    if path is None:
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        facts = ProvenanceFacts.from_json(record["facts"])
        matches = record.get("media_sha256") == sha256_file(media_path)
    except (OSError, ValueError, KeyError, TypeError, FacedubError) as error:
        # Said once, in the sidecar's own summary line (it was a warning as well, and the
        # line called the file changed since: a damaged sidecar is not an edited file).
        return SidecarReading(path, False, None, unreadable=_reason(error))
    return SidecarReading(path, matches, facts)


def _reason(error: Exception) -> str:
    """A few words on why a sidecar could not be read."""
    if isinstance(error, UnicodeDecodeError):
        return "not text"
    if isinstance(error, json.JSONDecodeError):
        return "not valid JSON"
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r} field"
    if isinstance(error, TypeError):
        return "not a provenance record"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _find_sidecar(media_path: Path) -> Path | None:
    """`out.mp4.provenance.json`, or an older `out.provenance.json` that names this file
    (a sidecar of that older name may belong to `out.mkv` beside it)."""
    path = sidecar_path(media_path)
    if path.is_file():
        return path
    legacy = legacy_sidecar_path(media_path)
    try:
        named = json.loads(legacy.read_text(encoding="utf-8")).get("media")
    except (OSError, ValueError, AttributeError):
        return None
    return legacy if named == media_path.name else None


def _watermark_line(mark: WatermarkReading) -> str:
    if mark.frames_read == 0:
        return f"watermark: not read, no frame decodes ({mark.damage})"
    damaged = "" if mark.damage is None else (
        f"; the picture stops decoding after those frames ({mark.damage})")
    return _reading_line(mark) + damaged


def _reading_line(mark: WatermarkReading) -> str:
    if not mark.found:
        return (f"watermark: not found (score {mark.score:.1f}, threshold {mark.threshold:.1f}, "
                f"{mark.frames_read} frame{'s' if mark.frames_read != 1 else ''} read)")
    job = f"job {mark.payload.job_id}" if mark.payload else "job id unreadable"
    where = "" if mark.scale == (1.0, 1.0) else (
        f", picture cropped or reframed (tile scale {mark.scale[0]:.2f} x {mark.scale[1]:.2f})")
    return (f"watermark: found, facedub tag {FACEDUB_TAG:04x}, {job}, score {mark.score:.1f} "
            f"(threshold {mark.threshold:.1f}), {mark.frames_agreeing:.0%} of "
            f"{mark.frames_read} frames agree{where}")


def _manifest_line(manifest: ManifestReading) -> str:
    if not manifest.present:
        return "content credentials: none"
    codes = ", ".join(c for c in manifest.status_codes if c != "signingCredential.untrusted")
    if manifest.tampered or not manifest.valid:
        return f"content credentials: present but INVALID, the file was changed ({codes})"
    who = f"signed by {manifest.signer!r}" + (f" ({manifest.issuer})" if manifest.issuer else "")
    trust = "trusted signer" if manifest.trusted else "signer not in a trust list"
    what = ("composite with synthetic content" if manifest.digital_source_type ==
            COMPOSITE_SYNTHETIC else (manifest.digital_source_type or "no source type"))
    facts = manifest.facts
    made = f", {facts.tool} {facts.version}, {facts.engine} engine, job {facts.job_id}" \
        if facts else ""
    return f"content credentials: valid, {who}, {trust}; {what}{made}"


def _job_conflict(result: Verification) -> str | None:
    payload, facts = result.watermark.payload, result.manifest.facts
    if payload is None or facts is None or payload.job_id == facts.job_id:
        return None
    return (f"warning: the watermark says job {payload.job_id} but the content credentials "
            f"say job {facts.job_id}")
