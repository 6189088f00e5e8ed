"""MediaPipe, loaded so that it stays on this machine and starts no compiler.

Import MediaPipe through this module only (`from facedub.faces.mediapipe_offline import mp,
vision, BaseOptions`). Two things in the mediapipe wheel break facedub's promises:

- Its native library carries a usage logger (`http_logging_client`) that posts each task's
  start, invocation counts and end to play.googleapis.com over HTTPS, from a thread, when a
  task closes. The wheel has no switch for it (the open-source build links a dummy logger;
  the binary wheel links the HTTP one). The logger uses libcurl, which honours `https_proxy`:
  pointing that at a closed port on this machine makes every attempt stop at a refused local
  connection, before any name is resolved. facedub itself never uses the network, so the
  only traffic this redirects is the logger's. gRPC (Ray, for `facedub batch`) also reads
  `https_proxy`; it reads `grpc_proxy` first, so that is set to what gRPC would have used.
- `import mediapipe` imports its audio tasks, which import `sounddevice`, whose import
  looks for the PortAudio library with `ctypes.util.find_library`: that runs ldconfig, gcc
  and ld on every start (about 0.2 s, and compilers spawned by a face-swap tool). facedub
  has no audio tasks: sounddevice is marked absent while mediapipe loads (mediapipe handles
  the ImportError) and restored afterwards.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import MutableMapping
from typing import Any

# A closed port on the loopback interface: curl's CONNECT to it is refused at once.
UNREACHABLE_PROXY = "http://127.0.0.1:9"


def keep_usage_logger_offline(environ: MutableMapping[str, str]) -> None:
    """Point libcurl's HTTPS proxy at a refused local port, keeping gRPC's own choice.

    Idempotent. `no_proxy` is moved to `no_grpc_proxy` (gRPC's own name for it) because
    curl would skip the proxy for the hosts it lists (`*` skips it for all)."""
    if environ.get("https_proxy") == UNREACHABLE_PROXY:
        return
    if "grpc_proxy" not in environ:
        environ["grpc_proxy"] = (environ.get("https_proxy") or environ.get("HTTPS_PROXY")
                                 or environ.get("http_proxy") or "")
    for name in ("no_proxy", "NO_PROXY"):
        if name in environ:
            environ.setdefault("no_grpc_proxy", environ[name])
            del environ[name]
    environ["https_proxy"] = UNREACHABLE_PROXY
    environ["HTTPS_PROXY"] = UNREACHABLE_PROXY


class _Deferred(types.ModuleType):
    """Stands in for a module that mediapipe imports and facedub never uses; the real
    one is imported the first time anything is read from it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def _import_without_audio() -> None:
    """Import mediapipe with sounddevice marked absent (see the module docstring), and
    matplotlib deferred: only its drawing helpers import pyplot, which cost 0.4 s of CPU
    at every start."""
    stand_ins: dict[str, types.ModuleType | None] = {"sounddevice": None}
    if "matplotlib" not in sys.modules:
        package, pyplot = _Deferred("matplotlib"), _Deferred("matplotlib.pyplot")
        package.__path__ = []
        package.pyplot = pyplot  # type: ignore[attr-defined]
        stand_ins.update({"matplotlib": package, "matplotlib.pyplot": pyplot})
    stand_ins = {name: module for name, module in stand_ins.items()
                 if name not in sys.modules}
    sys.modules.update(stand_ins)  # type: ignore[arg-type]
    try:
        import mediapipe  # noqa: F401
    finally:
        for name in stand_ins:
            del sys.modules[name]


keep_usage_logger_offline(os.environ)
_import_without_audio()

import mediapipe as mp  # noqa: E402
from mediapipe.tasks.python import BaseOptions, vision  # noqa: E402
from mediapipe.tasks.python.vision.face_landmarker import (  # noqa: E402
    FaceLandmarksConnections,
)

__all__ = ["UNREACHABLE_PROXY", "BaseOptions", "FaceLandmarksConnections",
           "keep_usage_logger_offline", "mp", "vision"]
