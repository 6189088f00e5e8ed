"""Who may use the server, and what may be uploaded.

- Bound to 127.0.0.1 by default. Any other address needs a token (given, or generated and
  printed once); without it every request, the page included, is answered 401. The token
  comes as `?token=` (the printed link; the page then keeps it in a cookie), as a cookie
  or as `Authorization: Bearer`.
- Requests that change something, and every WebSocket, must come from the page itself
  (their Origin, when the browser sends one, is the server's own): another web site
  open in the same browser cannot drive a server on localhost. Without a token, the Host
  must be a loopback name too, so a site that rebinds its own name to 127.0.0.1 is
  refused.
- Uploads: photo and video suffixes only, a size limit, and the content must decode as
  what the suffix says. The browser's file name is shown, never used as a path.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from facedub import media
from facedub.errors import FacedubError

COOKIE = "facedub_token"
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".gif", ".wmv"})
# The photo names Pillow reads here: a HEIC (a photo to `media`, read only with Pillow's
# HEIF plugin) is refused by its name before the upload, not after it.
UPLOAD_SUFFIXES = (frozenset(media.PHOTO_SUFFIXES & set(Image.registered_extensions()))
                   | VIDEO_SUFFIXES)
DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024  # bytes
MAX_NAME = 255

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_token(host: str, token: str | None) -> str | None:
    """The token this server requires: the given one, a new one for a non-loopback
    address, or None (loopback without a token: open to this machine only)."""
    if token is not None:
        if len(token) < 16:
            raise FacedubError("--token: use at least 16 characters (or leave it out to "
                               "have one generated)")
        return token
    return None if is_loopback(host) else secrets.token_urlsafe(24)


def upload_kind(name: str) -> tuple[str, str]:
    """(kind, suffix) for a browser's file name, or FacedubError saying what is allowed.
    A name with a path in it is refused outright: it is never a path here."""
    if not name or len(name.encode()) > MAX_NAME:
        raise FacedubError("give the file a name of 1 to 255 bytes")
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise FacedubError(f"{name!r}: a file name may not contain '/', '\\', '..' or a "
                           "NUL byte; rename the file and upload it again")
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if media.unreadable_heic(Path(name)):
        # An iPhone photo was called "not a photo or video".
        raise FacedubError(f"{name!r}: {media.HEIC_REFUSAL}")
    if suffix not in UPLOAD_SUFFIXES:
        raise FacedubError(f"{name!r}: not a photo or video; upload one of "
                           f"{', '.join(sorted(UPLOAD_SUFFIXES))}")
    return ("photo" if suffix in media.PHOTO_SUFFIXES else "video"), suffix


class Guard:
    """ASGI middleware: the token and the same-origin rule, for HTTP and WebSocket."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        if self.token is None and not is_loopback(_host_name(headers.get("host", ""))):
            # Without a token the server is for this machine only; a page that reaches it
            # under another name (DNS rebinding) is turned away.
            await _refuse(scope, send, 403, "open the server as http://127.0.0.1")
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        from_link = self._matches((query.get("token") or [""])[0])
        if self.token is not None and not (from_link or self._authorised(headers)):
            await _refuse(scope, send, 401, "a token is needed: open the link the server "
                                            "printed")
            return
        changes = scope["type"] == "websocket" or scope.get("method") not in ("GET", "HEAD")
        if changes and not _same_origin(headers):
            await _refuse(scope, send, 403, "requests must come from facedub's own page")
            return
        if from_link and scope["type"] == "http":
            send = _with_cookie(send, COOKIE, self.token or "")
        await self.app(scope, receive, send)

    def _matches(self, given: str) -> bool:
        return self.token is not None and bool(given) and hmac.compare_digest(
            given.encode(), self.token.encode())

    def _authorised(self, headers: dict[str, str]) -> bool:
        bearer = headers.get("authorization", "")
        if bearer.lower().startswith("bearer ") and self._matches(bearer[7:].strip()):
            return True
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            return False
        return COOKIE in cookie and self._matches(cookie[COOKIE].value)


def _host_name(host: str) -> str:
    """'127.0.0.1:7860' -> '127.0.0.1'; '[::1]:7860' -> '::1'."""
    return urlsplit(f"//{host}").hostname or ""


def _same_origin(headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if origin is None:  # not a browser's cross-site request (curl, scripts)
        return True
    return urlsplit(origin).netloc == headers.get("host", "")


def _with_cookie(send: Send, name: str, value: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{name}={value}; Path=/; HttpOnly; SameSite=Strict"
            message["headers"] = [*message.get("headers", []),
                                  (b"set-cookie", cookie.encode("latin-1"))]
        await send(message)

    return sending


async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4000 + status, "reason": text})
        return
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
