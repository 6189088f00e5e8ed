"""`facedub serve` given the same file twice: upload one clip under two names through the
app (in process, over ASGI), ask each upload for its persons (the target's analysis), and
time both. Prints wall and CPU seconds of each and how many analyses and upload files the
work folder holds (round 48: one of each, the second ask a cache hit).

    PYTHONPATH=src python benchmarks/serve_same_upload.py [CLIP]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx

from _measure import SHARED_FACES
from facedub.serve.app import ServeConfig, create_app

CLIP = "clip_sadtalker_hdtf_katiehill_headturn.mp4"  # 200 frames, one person


async def _measure(app: object, clip: Path) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:7860",
                                 timeout=900) as client:
        ids = []
        for name in ("clip.mp4", "clip again.mp4"):
            response = await client.post("/api/upload", content=clip.read_bytes(),
                                         headers={"x-filename": name})
            response.raise_for_status()
            ids.append(response.json()["id"])
        for upload in ids:
            wall, cpu = time.monotonic(), time.process_time()
            response = await client.get(f"/api/uploads/{upload}/persons")
            response.raise_for_status()
            print(f"persons of upload {upload}: wall {time.monotonic() - wall:.1f} s, "
                  f"CPU {time.process_time() - cpu:.1f} s")


def main() -> None:
    clip = Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED_FACES / CLIP
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "work"
        anyio.run(_measure, create_app(ServeConfig(work, Path(scratch) / "config")), clip)
        analyses = [p for p in (work / "analyses").iterdir()
                    if p.is_dir() and not p.name.startswith(".")]
        print(f"analyses: {len(analyses)}; files in uploads/: "
              f"{len(list((work / 'uploads').iterdir()))}")


if __name__ == "__main__":
    main()
