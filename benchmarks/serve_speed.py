"""`facedub serve` as a user meets it: the one-frame preview (HTTP, analysis cached) and
the live camera in headless Chromium, whose fake camera plays a shared clip at 640x480.

Live: frames received per second by the page, and glass-to-glass latency per frame (the
page stamps each frame when it takes it from the camera, the server sends the stamp back
with the swapped frame, the page subtracts when that frame is drawn). Chromium and the
server share the machine. Prints a markdown table and writes JSON.

    python benchmarks/serve_speed.py [--seconds 20] [--previews 7] [--out FILE]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import httpx

from _measure import SHARED_FACES, markdown_table, write_json
from facedub import media

SOURCE = "still_paul_rudd_frontal_studio.jpg"
TARGET = "clip_liveportrait_d9_man_glasses_webcam.mp4"
CAMERA = "clip_liveportrait_d9_man_glasses_webcam.mp4"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream"]


def y4m(clip: Path, out: Path, frames: int = 150) -> Path:
    """The clip at 640x480, 30 frames/s (cropped to 4:3), as the fake camera's Y4M."""
    with out.open("wb") as file:
        file.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        for index, frame in enumerate(media.iter_frames(clip)):
            if index >= frames:
                break
            height, width = frame.image.shape[:2]
            crop_width = min(width, height * 4 // 3)
            left = (width - crop_width) // 2
            image = cv2.resize(frame.image[:, left:left + crop_width], (640, 480),
                               interpolation=cv2.INTER_AREA)
            file.write(b"FRAME\n" + cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420).tobytes())
    return out


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "facedub", "serve", "--port", str(port),
                                "--work-dir", str(work)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/api/jobs", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def upload(url: str, path: Path) -> str:
    response = httpx.post(url + "/api/upload", content=path.read_bytes(),
                          headers={"X-Filename": path.name}, timeout=60)
    response.raise_for_status()
    return str(response.json()["id"])


def previews(url: str, source: str, target: str, count: int) -> list[float]:
    httpx.get(f"{url}/api/uploads/{target}/persons", timeout=600).raise_for_status()
    seconds = []
    for index in range(count + 1):  # the first loads the source: not counted
        started = time.perf_counter()
        response = httpx.post(url + "/api/preview", timeout=120, json={
            "source": source, "target": target, "frame": 20 * index, "options": {}})
        response.raise_for_status()
        if index:
            seconds.append(time.perf_counter() - started)
    return seconds


def live(url: str, camera: Path, seconds: float, profile: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile), executable_path="/usr/bin/chromium", headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera}"])
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("document.querySelectorAll('#live-source option').length")
        page.click("#tab-live")
        page.click("#live-start")
        page.wait_for_function("window.liveStats.frames >= 10", timeout=120_000)
        before = page.evaluate("[window.liveStats.frames, window.liveStats.all.length]")
        time.sleep(seconds)
        frames, latencies, server_ms = page.evaluate(
            "[window.liveStats.frames, window.liveStats.all, window.liveStats.server]")
        browser.close()
    counted = sorted(latencies[before[1]:])
    return {"fps": (frames - before[0]) / seconds, "p50_ms": statistics.median(counted),
            "p90_ms": counted[int(0.9 * (len(counted) - 1))], "server_p50_ms": server_ms,
            "frames": frames - before[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--previews", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="facedub-serve-") as temporary:
        folder = Path(temporary)
        process, url = start_server(folder / "work")
        try:
            source = upload(url, SHARED_FACES / SOURCE)
            target = upload(url, SHARED_FACES / TARGET)
            preview = previews(url, source, target, args.previews)
            stats = live(url, y4m(SHARED_FACES / CAMERA, folder / "camera.y4m"),
                         args.seconds, folder / "profile")
        finally:
            process.terminate()
            process.wait(timeout=30)
    results = {"preview_seconds": preview, "preview_p50": statistics.median(preview), **stats}
    print(markdown_table(["measure", "value"], [
        ["preview p50 (s)", f"{results['preview_p50']:.2f} (of {len(preview)})"],
        ["live frames/s in the page", f"{stats['fps']:.1f} ({stats['frames']} frames)"],
        ["live glass-to-glass p50 / p90 (ms)", f"{stats['p50_ms']:.0f} / {stats['p90_ms']:.0f}"],
        ["live server time per frame p50 (ms)", f"{stats['server_p50_ms']:.0f}"],
    ]))
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    main()
