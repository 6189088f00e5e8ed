"""`facedub serve`: the local web app (file swaps with a job queue, and a live camera).

- `app`: the ASGI app (Starlette): page, JSON API, WebSockets
- `security`: the token, same-origin rule and upload checks
- `store`: uploads and the job table (SQLite) in the work folder
- `work`: persons, preview, the swap and eval jobs, verify
- `live`: per-frame swapping of a camera stream
- `server`: uvicorn
"""

from facedub.serve.server import DEFAULT_HOST, DEFAULT_PORT, serve

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "serve"]
