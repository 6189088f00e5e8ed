"""Start the app on uvicorn: `facedub serve`."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import uvicorn

from facedub.errors import FacedubError
from facedub.fsutil import exclusive_lock
from facedub.serve.app import ServeConfig, create_app
from facedub.serve.security import DEFAULT_MAX_UPLOAD, is_loopback, server_token

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 7860
LOCK_FILE = "serve.lock"  # in the work folder, held by the server using it


def serve(work: Path, config_dir: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          token: str | None = None, say: Callable[[str], None] = print,
          max_upload: int = DEFAULT_MAX_UPLOAD, media: Path | None = None) -> None:
    """Serve until Ctrl-C. A non-loopback `host` always gets a token (printed once)."""
    if not 0 < port < 65536:
        raise FacedubError(f"--port {port}: use 1 to 65535")
    required = server_token(host, token)
    if media is not None and not media.is_dir():
        raise FacedubError(f"--media {media}: not a folder; give a folder of photos, videos "
                           "or facesets")
    _check_listenable(host, port)
    config = ServeConfig(Path(work), config_dir, required, max_upload,
                         None if media is None else media.resolve())
    with _sole_server(config.work):
        app = create_app(config)
        shown = f"[{host}]" if ":" in host else host
        link = f"http://{shown}:{port}/"
        if required is not None:
            link += f"?token={required}"
        where = ("this machine only" if is_loopback(host)
                 else "other machines too, with the token")
        say(f"facedub serve: open {link}  (reachable from {where}; work folder "
            f"{config.work})")
        server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                        ws_max_size=16 * 1024 * 1024))
        interrupted = False
        try:
            server.run()
        except KeyboardInterrupt:  # Ctrl-C, raised again once uvicorn has stopped; as
            interrupted = True     # uvicorn.run, returned: the caller says it
        if not server.started and not interrupted:  # uvicorn said why (a port taken
            # since the check, say)
            raise FacedubError(f"the server did not start on {host}:{port}; see the line "
                               "above")


class _Server(uvicorn.Server):
    """uvicorn's server, stopped by SIGHUP as by SIGINT and SIGTERM: with the jobs'
    shutdown (the running one queued again), then the signal raised again for the
    caller's handler (one line, exit 129). uvicorn handles only those two; a hang-up (the
    terminal closed) raised the caller's exception inside the event loop, and uvicorn
    printed "ERROR: Traceback" and 30 lines of asyncio's cancellation."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals(), _hang_up_handled_by(self.handle_exit):
            yield


@contextlib.contextmanager
def _hang_up_handled_by(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """SIGHUP goes to `handler` in this block; one the process was started ignoring
    (`nohup`) stays ignored, and outside the main thread nothing is changed."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGHUP) == signal.SIG_IGN):
        yield
        return
    previous = signal.signal(signal.SIGHUP, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


@contextlib.contextmanager
def _sole_server(work: Path) -> Iterator[None]:
    """One server per work folder. A second one on the same folder took the first's
    running job for one a stopped server had left: marked it failed and removed its
    staged output while the first went on swapping, and both ran the queued jobs. The
    lock is held while the server runs and goes with the process."""

    def refuse() -> None:
        raise FacedubError(f"--work-dir {work}: another facedub serve uses this work folder; "
                           "open that one, or give this one another --work-dir")

    work.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(work / LOCK_FILE, on_wait=refuse):
        yield


def _check_listenable(host: str, port: int) -> None:
    """Refuse, in one line, an address this machine cannot listen on, before the link is
    printed: uvicorn printed "open http://...", then its own "ERROR: [Errno 98] error
    while attempting to bind on address ...", and exited with 3. The probe binds as
    uvicorn does (SO_REUSEADDR) and lets go at once."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise FacedubError(f"--host {host}: {error.strerror}; give a name or address of "
                           "this machine (127.0.0.1, 0.0.0.0)") from None
    family, kind, protocol, _, address = found[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            reason = (error.strerror or str(error)).lower()
            raise FacedubError(f"--port {port}: cannot listen on {host}:{port} ({reason}); "
                               "choose another --port, or stop what listens there") from None
