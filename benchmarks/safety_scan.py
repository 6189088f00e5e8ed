"""Explicit-content check over the shared test set: time per file and the highest scores.

Every clip (up to 16 evenly spaced frames) and photo of ../shared/data/faces is scored by
NudeNet as `facedub.extract.safety` does. None of them shows nudity, so the highest explicit-class
score is the margin under the refusal threshold. Prints a markdown table; writes JSON to
`--out` (default: a temporary folder).

Usage: python benchmarks/safety_scan.py [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from facedub import media
from facedub.extract.safety import (
    EXPLICIT_CLASSES,
    FRAMES_PER_VIDEO,
    REFUSAL_THRESHOLD,
    NudeNetDetector,
    sample_frames,
)

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces"


def scan(path: Path, detector: NudeNetDetector) -> dict[str, object]:
    start = time.perf_counter()
    explicit, explicit_label, other, other_label, frames = 0.0, "", 0.0, "", 0
    for frame in sample_frames(path, FRAMES_PER_VIDEO):
        frames += 1
        for label, score in detector.scores(frame.image).items():
            if label in EXPLICIT_CLASSES and score > explicit:
                explicit, explicit_label = score, label
            elif label not in EXPLICIT_CLASSES and not label.startswith("FACE") and \
                    score > other:
                other, other_label = score, label
    return {"file": path.name, "frames": frames, "seconds": round(time.perf_counter() - start, 2),
            "max_explicit": round(explicit, 4), "max_explicit_label": explicit_label,
            "max_other_body": round(other, 4), "max_other_body_label": other_label}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not FACES.is_dir():
        raise SystemExit(f"test media not found at {FACES}")
    start = time.perf_counter()
    detector = NudeNetDetector()
    load_s = time.perf_counter() - start
    files = sorted(FACES.glob("clip_*")) + sorted(p for p in FACES.iterdir()
                                                  if media.is_photo_path(p))
    rows = [scan(path, detector) for path in files]
    print(f"NudeNet load: {load_s:.2f} s; refusal threshold {REFUSAL_THRESHOLD}\n")
    print("| file | frames | seconds | max explicit score (class) | max other body score |")
    print("| --- | ---: | ---: | --- | --- |")
    for row in rows:
        print(f"| {row['file']} | {row['frames']} | {row['seconds']} | {row['max_explicit']:.3f} "
              f"({row['max_explicit_label'] or '-'}) | {row['max_other_body']:.3f} "
              f"({row['max_other_body_label'] or '-'}) |")
    clips = [r for r in rows if str(r["file"]).startswith("clip_")]
    summary = {
        "threshold": REFUSAL_THRESHOLD, "files": len(rows),
        "max_explicit": max(float(r["max_explicit"]) for r in rows),  # type: ignore[arg-type]
        "refused": sum(float(r["max_explicit"]) >= REFUSAL_THRESHOLD for r in rows),  # type: ignore[arg-type]
        "seconds_per_clip": round(sum(float(r["seconds"]) for r in clips)  # type: ignore[arg-type]
                                  / max(1, len(clips)), 2),
        "model_load_s": round(load_s, 2),
    }
    print(f"\n{summary}")
    out = args.out or Path(tempfile.mkdtemp(prefix="facedub-bench-")) / "safety_scan.json"
    out.write_text(json.dumps({"summary": summary, "files": rows}, indent=2))
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
