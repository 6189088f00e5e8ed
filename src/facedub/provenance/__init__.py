"""The mark stage and its reader: everything facedub adds so its output says what it is.

- `watermark`: invisible spread-spectrum mark in every frame (tag + job id)
- `label`: visible "AI-generated" label
- `manifest`: signed C2PA content credentials and the `.provenance.json` sidecar
- `credentials`: the signing certificate and key (the user's, or a local CA's)
- `verify`: reads all of the above back

`pattern` and `search` are the watermark's internals.
"""

from facedub.provenance.label import LabelPainter, draw_visible_label
from facedub.provenance.manifest import (
    ManifestReading,
    ProvenanceFacts,
    SigningCredentials,
    load_or_create_credentials,
    new_job_id,
    read_manifest,
    sign_media,
    write_sidecar,
)
from facedub.provenance.verify import Verification, verify
from facedub.provenance.watermark import (
    MAX_JOB_ID,
    WatermarkDetector,
    WatermarkEmbedder,
    WatermarkPayload,
    WatermarkReading,
    embed_watermark,
    read_watermark,
)

__all__ = [
    "MAX_JOB_ID", "LabelPainter", "ManifestReading", "ProvenanceFacts", "SigningCredentials",
    "Verification", "WatermarkDetector", "WatermarkEmbedder", "WatermarkPayload",
    "WatermarkReading", "draw_visible_label", "embed_watermark", "load_or_create_credentials",
    "new_job_id", "read_manifest", "read_watermark", "sign_media", "verify",
    "write_sidecar",
]
