"""Content credentials (C2PA manifests) and the provenance sidecar.

`sign_media` embeds a signed manifest in MP4/MOV, JPEG, PNG or WebP output. It holds a
`c2pa.actions` assertion (`c2pa.created`, IPTC digital source type `compositeSynthetic`:
a composite in which at least one element is synthetic) and a custom
`org.facedub.provenance` assertion with the `ProvenanceFacts`. `write_sidecar` writes the
same facts as `<file name>.provenance.json` beside any output, whatever its format.
`read_manifest` reads a file's manifest back and says whether it is intact.

Signing credentials: see `facedub.provenance.credentials` (re-exported here).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa

from facedub.errors import FacedubError
from facedub.fsutil import atomic_path, sha256_file, write_json_atomic
from facedub.provenance.credentials import SigningCredentials, load_or_create_credentials
from facedub.provenance.watermark import FACEDUB_TAG, MAX_JOB_ID, WatermarkPayload

__all__ = ["FACTS_LABEL", "InputFact", "ManifestReading", "ProvenanceFacts",
           "SigningCredentials", "load_or_create_credentials", "new_job_id",
           "read_manifest", "sidecar_path", "sign_media", "write_sidecar"]

log = logging.getLogger(__name__)

FACTS_LABEL = "org.facedub.provenance"
COMPOSITE_SYNTHETIC = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"
SIDECAR_FORMAT = "facedub.provenance"
SIDECAR_VERSION = 1
MIME_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
              ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
              ".webp": "image/webp"}


@dataclass(frozen=True)
class InputFact:
    """One input file: its role in the job (`source`, `target`, `model`...), name, sha256."""

    role: str
    name: str
    sha256: str


@dataclass(frozen=True)
class ProvenanceFacts:
    """What made an output. `settings` must be JSON-able; `created` is UTC ISO 8601."""

    tool: str
    version: str
    engine: str
    settings: Mapping[str, Any]
    inputs: tuple[InputFact, ...]
    job_id: int
    created: str
    watermark: WatermarkPayload | None

    def __post_init__(self) -> None:
        try:
            json.dumps(dict(self.settings), allow_nan=False)
        except (TypeError, ValueError) as error:
            raise FacedubError(f"provenance settings must be plain JSON values ({error}); "
                               "convert paths and numpy values to str/float first") from error

    def to_json(self) -> dict[str, Any]:
        watermark = None
        if self.watermark is not None:
            watermark = {"tag": f"{FACEDUB_TAG:04x}", "job_id": self.watermark.job_id,
                         "payload": f"{self.watermark.value:08x}"}
        return {"tool": self.tool, "version": self.version, "engine": self.engine,
                "settings": dict(self.settings),
                "inputs": [{"role": i.role, "name": i.name, "sha256": i.sha256}
                           for i in self.inputs],
                "job_id": self.job_id, "created": self.created, "watermark": watermark}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProvenanceFacts:
        """Inverse of `to_json`; raises FacedubError on a malformed record."""
        try:
            mark = data.get("watermark")
            return cls(str(data["tool"]), str(data["version"]), str(data["engine"]),
                       dict(data["settings"]),
                       tuple(InputFact(str(i["role"]), str(i["name"]), str(i["sha256"]))
                             for i in data["inputs"]),
                       int(data["job_id"]), str(data["created"]),
                       WatermarkPayload(int(mark["job_id"])) if mark else None)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise FacedubError(f"malformed provenance record ({error!r}); it was not written "
                               "by this facedub version") from error


@dataclass(frozen=True)
class ManifestReading:
    """A file's content credentials as read back.

    `valid`: the manifest verifies (signature and hashes), whether or not its signer is
    trusted; `tampered`: a hash no longer matches the content (the media was changed
    after signing); `trusted`: the signer chains to a trust anchor the reader knows.
    `status_codes` are the C2PA validation codes that are not successes. `parsed`: the
    manifest store could be read at all (a file that is no media also fails to parse).
    """

    present: bool
    valid: bool = False
    tampered: bool = False
    trusted: bool = False
    state: str | None = None
    signer: str | None = None
    issuer: str | None = None
    digital_source_type: str | None = None
    facts: ProvenanceFacts | None = None
    status_codes: tuple[str, ...] = ()
    parsed: bool = True


def new_job_id() -> int:
    """A random 16-bit job id (what the watermark carries)."""
    return secrets.randbelow(MAX_JOB_ID + 1)


def sign_media(src: Path, dst: Path, facts: ProvenanceFacts,
               credentials: SigningCredentials) -> None:
    """Write `src` to `dst` with a signed manifest embedded (dst may equal src)."""
    src, dst = Path(src), Path(dst)
    mime = _mime_type(dst)
    if _mime_type(src) != mime:
        raise FacedubError(f"cannot sign {src.name} into {dst.name}: the formats differ; "
                           "keep the same extension")
    manifest = {
        "claim_generator_info": [{"name": facts.tool, "version": facts.version}],
        "title": dst.name,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created",
                "digitalSourceType": COMPOSITE_SYNTHETIC,
                "softwareAgent": {"name": facts.tool, "version": facts.version},
                "description": f"face replaced by facedub ({facts.engine} engine)",
            }]}},
            {"label": FACTS_LABEL, "data": facts.to_json()},
        ],
    }
    info = c2pa.C2paSignerInfo(credentials.algorithm, credentials.chain_pem,
                               credentials.key_pem, None)
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder, \
                atomic_path(dst) as tmp, open(src, "rb") as source, open(tmp, "w+b") as out:
            builder.sign(signer, mime, source, out)
    except c2pa.C2paError as error:
        raise FacedubError(f"{dst}: signing content credentials failed ({error}); check the "
                           f"certificates in {credentials.directory}") from error
    log.debug("signed %s as %s", dst, credentials.subject)


def sidecar_path(output: Path) -> Path:
    """`out.mp4` -> `out.mp4.provenance.json` beside it. The whole file name, so that
    `out.mp4` and `out.mkv` in one folder keep a sidecar each."""
    output = Path(output)
    return output.with_name(f"{output.name}.provenance.json")


def legacy_sidecar_path(output: Path) -> Path:
    """`out.mp4` -> `out.provenance.json`: where facedub 0.x before this name wrote it."""
    output = Path(output)
    return output.with_name(f"{output.stem}.provenance.json")


def write_sidecar(output: Path, facts: ProvenanceFacts) -> Path:
    """Write the facts beside `output`, bound to the file's current sha256. Call it after
    signing (signing changes the bytes)."""
    output = Path(output)
    path = sidecar_path(output)
    write_json_atomic(path, {"format": SIDECAR_FORMAT, "version": SIDECAR_VERSION,
                             "media": output.name, "media_sha256": sha256_file(output),
                             "facts": facts.to_json()})
    return path


def read_manifest(path: Path) -> ManifestReading:
    """Read and validate the embedded manifest; formats without one read as not present."""
    path = Path(path)
    if path.exists() and not path.is_file():  # "no such file" sent the user to the path
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise FacedubError(f"{path}: {kind}; give a video or photo file")
    if not path.is_file():
        raise FacedubError(f"{path}: no such file; check the path")
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        return ManifestReading(present=False)
    try:
        with open(path, "rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream)
            if reader is None:
                return ManifestReading(present=False)
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as error:
        # A manifest is there but cannot be parsed: as good as tampered.
        return ManifestReading(present=True, tampered=True, state="Invalid",
                               status_codes=(f"error: {error}",), parsed=False)
    return _reading_from_store(store)


def _reading_from_store(store: Mapping[str, Any]) -> ManifestReading:
    manifest = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    codes = tuple(str(item.get("code")) for item in store.get("validation_status", []) or [])
    state = store.get("validation_state")
    signature = manifest.get("signature_info", {}) or {}
    facts, source_type = None, None
    for assertion in manifest.get("assertions", []):
        label, data = assertion.get("label", ""), assertion.get("data", {})
        if label == FACTS_LABEL:
            try:
                facts = ProvenanceFacts.from_json(data)
            except FacedubError:
                log.warning("the %s assertion is malformed; ignoring it", FACTS_LABEL)
        elif label.startswith("c2pa.actions"):
            for action in data.get("actions", []):
                source_type = action.get("digitalSourceType", source_type)
    return ManifestReading(
        present=True, valid=state in ("Valid", "Trusted"),
        tampered=any("mismatch" in code for code in codes),
        trusted=state == "Trusted", state=state,
        signer=signature.get("common_name"), issuer=signature.get("issuer"),
        digital_source_type=source_type, facts=facts, status_codes=codes)


def _mime_type(path: Path) -> str:
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        raise FacedubError(f"{path.name}: content credentials cannot be embedded in "
                           f"{path.suffix or 'this'} files; write MP4, MOV, JPEG, PNG or WebP "
                           "(the .provenance.json sidecar still records the facts)")
    return mime
