"""What the serve tests share besides fixtures."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Server:
    """A running `facedub serve`: its address, work folder and first line printed."""

    url: str
    work: Path
    banner: str
    process: subprocess.Popen[str]
