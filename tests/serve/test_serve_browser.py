"""`facedub serve` in a real browser: headless Chromium (Debian's) driven by Playwright.

The file flow end to end, two tabs on one job table, and the live camera from Chromium's
fake capture device fed with a shared clip. Screenshots go to the test's tmp folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from serve_support import Server

from facedub import media

PHOTO = "still_paul_rudd_frontal_studio.jpg"
CLIP = "clip_liveportrait_d9_man_glasses_webcam.mp4"
SLOW = 300_000  # ms: analysis and swap on a busy 2-core machine (a bound, not a timing)


def test_file_flow_upload_preview_swap_verify(
        start_server: Callable[..., Server], launch_browser: Callable[..., Any],
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    server = start_server()
    clip = short_clip(CLIP, 1.0)
    browser = launch_browser()
    page = browser.new_page()
    page.goto(server.url)
    page.set_input_files("#file-input", [str(faces_dir / PHOTO), str(clip)])
    page.wait_for_function("document.querySelectorAll('#target option').length == 2")
    assert page.locator("#source option:checked").inner_text().startswith(PHOTO)
    assert page.locator("#target option:checked").inner_text().startswith(clip.name)

    # The same photo again, under another name: one entry still, and the page says which
    # (two entries of one file read as two files: `Store.add_upload`).
    again = tmp_path / "me again.jpg"
    again.write_bytes((faces_dir / PHOTO).read_bytes())
    page.set_input_files("#file-input", str(again))
    page.wait_for_function("document.querySelector('#upload-status').textContent"
                           ".includes('me again.jpg') && !document.querySelector("
                           "'#upload-status').textContent.includes('uploading')")
    assert page.locator("#upload-status").inner_text() == (
        f"me again.jpg is already here as {PHOTO}")
    assert page.locator("#source option").all_inner_texts() == [
        f"{PHOTO} (photo)", f"{clip.name} (video)"]
    assert page.locator("#target option").count() == 2

    page.click("#find-persons")
    page.wait_for_selector("#persons .person.chosen", timeout=SLOW)
    page.click("#persons .person")
    page.select_option("#opt-color", "reinhard")  # a non-default option travels along
    page.click("#preview-btn")
    page.wait_for_selector("#preview-status:has-text('preview in')", timeout=SLOW)
    assert page.locator("#preview-img").evaluate("img => img.naturalWidth") > 0
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)

    page.click("#swap-btn")
    row = page.locator("#jobs tbody tr[data-job='1']")
    row.wait_for(timeout=SLOW)
    page.wait_for_selector("#jobs tr[data-job='1'][data-state='done']", timeout=SLOW)
    assert row.locator(".pct").inner_text() == "100%"
    frames = media.probe(clip).frame_count
    assert f"{frames}/{frames}" in row.inner_text()
    page.screenshot(path=str(tmp_path / "done.png"), full_page=True)

    row.locator("button.verify").click()
    verdict = page.locator("#verify-result .verdict")
    verdict.wait_for(timeout=SLOW)
    assert verdict.get_attribute("data-verdict") == "marked by facedub"

    # A second tab sees the same jobs (the table lives in the server's database).
    other = browser.new_page()
    other.goto(server.url)
    other.wait_for_selector("#jobs tr[data-job='1'][data-state='done']", timeout=SLOW)

    # Any file dropped in is checked: the shared photo carries no marks.
    page.set_input_files("#verify-input", str(faces_dir / PHOTO))
    page.wait_for_selector(f"#verify-result .verdict:has-text('{PHOTO}')", timeout=SLOW)
    assert verdict.get_attribute("data-verdict") == "not marked"

    with page.expect_download() as download:
        row.locator("a.download").click()
    saved = tmp_path / "downloaded.mp4"
    download.value.save_as(saved)
    assert media.probe(saved).frame_count == frames

    # The result with bytes changed after signing: the credentials say so.
    changed = bytearray(saved.read_bytes())
    middle = len(changed) // 2
    changed[middle:middle + 64] = bytes(64)
    (tmp_path / "changed.mp4").write_bytes(bytes(changed))
    page.set_input_files("#verify-input", str(tmp_path / "changed.mp4"))
    page.wait_for_selector("#verify-result .verdict:has-text('changed.mp4')", timeout=SLOW)
    assert verdict.get_attribute("data-verdict") == "changed since signing"


def write_y4m(clip: Path, out: Path, frames: int, size: tuple[int, int] = (640, 480)) -> Path:
    """The first frames of a clip as a Y4M file, the format Chromium's fake camera reads."""
    width, height = size
    with out.open("wb") as file:
        file.write(f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode())
        for index, frame in enumerate(media.iter_frames(clip)):
            if index >= frames:
                break
            image = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
            file.write(b"FRAME\n" + cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420).tobytes())
    return out


def test_live_camera_frames_come_back_with_their_rate(
        start_server: Callable[..., Server], launch_browser: Callable[..., Any],
        faces_dir: Path, tmp_path: Path) -> None:
    import httpx

    server = start_server()
    uploaded = httpx.post(server.url + "/api/upload", content=(faces_dir / PHOTO).read_bytes(),
                          headers={"X-Filename": PHOTO})
    assert uploaded.status_code == 200
    camera = write_y4m(faces_dir / CLIP, tmp_path / "camera.y4m", frames=50)
    browser = launch_browser("--use-fake-device-for-media-stream",
                             "--use-fake-ui-for-media-stream",
                             f"--use-file-for-fake-video-capture={camera}")
    page = browser.new_page()
    page.goto(server.url)
    page.wait_for_function("document.querySelectorAll('#live-source option').length == 1")
    page.click("#tab-live")
    page.click("#live-start")
    page.wait_for_function("window.liveStats.frames >= 20", timeout=SLOW)
    readout = page.locator("#live-readout").inner_text()
    fps = float(re.search(r"([\d.]+) fps", readout).group(1))  # type: ignore[union-attr]
    assert fps > 0 and "latency p50" in readout
    page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    shown = page.locator("#live-out").evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
        ".filter((_, i) => i % 4 === 0 && i % 400 === 0))")
    assert np.std(np.array(shown, dtype=np.float32)) > 10  # a picture, not a blank canvas
    page.click("#live-stop")
