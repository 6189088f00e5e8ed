"""extract: media in, faceset out (see `run.py`); the explicit-content check (`safety.py`)
and the work folder of reused analyses (`workspace.py`) sit beside it."""

from facedub.extract.config import ExtractConfig
from facedub.extract.run import ExtractResult, MediaSource, extract, open_source

__all__ = ["ExtractConfig", "ExtractResult", "MediaSource", "extract", "open_source"]
