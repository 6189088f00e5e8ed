"""Where facedub keeps things of its own, following the XDG base directory convention.

Each folder can be moved with an environment variable (tests and CI point them into
temporary folders, so they never touch a user's key or cache).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CONFIG_ENV_VAR = "FACEDUB_CONFIG_DIR"
WORK_ENV_VAR = "FACEDUB_WORK_DIR"


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Settings and the signing key: $FACEDUB_CONFIG_DIR, else $XDG_CONFIG_HOME/facedub,
    else ~/.config/facedub."""
    return _folder(environ, CONFIG_ENV_VAR, "XDG_CONFIG_HOME", ".config")


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Models put there by hand: $XDG_CACHE_HOME/facedub, else ~/.cache/facedub."""
    return _folder(environ, None, "XDG_CACHE_HOME", ".cache")


def work_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Cached analyses: $FACEDUB_WORK_DIR, else the cache folder's `work`."""
    env = os.environ if environ is None else environ
    if env.get(WORK_ENV_VAR):
        return Path(env[WORK_ENV_VAR])
    return cache_dir(env) / "work"


def _folder(environ: Mapping[str, str] | None, override: str | None, xdg: str,
            home_default: str) -> Path:
    env = os.environ if environ is None else environ
    if override and env.get(override):
        return Path(env[override])
    return Path(env.get(xdg) or str(Path.home() / home_default)) / "facedub"
