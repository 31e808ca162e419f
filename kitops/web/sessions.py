"""The browser's side of a web session: the signed cookie and the CSRF tokens.

The cookie carries the session's random token, signed with itsdangerous so a forged or
altered cookie is refused before the database is asked. The signing key comes from
``KITOPS_WEB_SECRET`` (or a 0600 file named by ``KITOPS_WEB_SECRET_FILE``, as every
kitops secret), else from ``web-secret`` in the user state folder, made (0600) on first
start and shared by every worker. A form's CSRF token is an HMAC of the session token
under that key (before logging in, of a random nonce in a cookie of its own), so it is
tied to this browser's session and checked on every POST.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, Signer
from starlette.requests import Request
from starlette.responses import Response

from kitops.secrets import SecretProblem, from_env

SESSION_COOKIE = "kitops_session"
LOGIN_COOKIE = "kitops_login"
SECRET_VARIABLE = "KITOPS_WEB_SECRET"
KEY_FILE_NAME = "web-secret"

_keys: dict[Path | None, bytes] = {}


def key_file() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("kitops")) / KEY_FILE_NAME


def signing_key() -> bytes:
    """The key that signs cookies and CSRF tokens (see the module's notes)."""
    given = from_env(SECRET_VARIABLE)
    if given is not None:
        return given.encode()
    path = key_file()
    if path not in _keys:
        _keys[path] = _read_or_make(path)
    return _keys[path]


def _read_or_make(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made by an earlier start or by another worker
    else:
        try:
            os.write(descriptor, secrets.token_hex(32).encode("ascii"))
        finally:
            os.close(descriptor)
    info = path.stat()
    if info.st_mode & 0o077:
        raise SecretProblem(f"{path}: others may read it; `chmod 600 {path}`")
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise SecretProblem(f"{path}: too short to sign sessions; delete it to make a new one")
    return value.encode()


def _signer(purpose: str) -> Signer:
    return Signer(signing_key(), salt=f"kitops.web.{purpose}")


def _read(request: Request, cookie: str) -> str | None:
    value = request.cookies.get(cookie)
    if not value:
        return None
    try:
        return _signer(cookie).unsign(value).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        return None


def _write(request: Request, response: Response, cookie: str, token: str) -> None:
    response.set_cookie(
        cookie, _signer(cookie).sign(token.encode("ascii")).decode("ascii"),
        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
    )  # fmt: skip


def session_token(request: Request) -> str | None:
    """The session token of this request's cookie, if its signature holds."""
    return _read(request, SESSION_COOKIE)


def set_session(request: Request, response: Response, token: str) -> None:
    _write(request, response, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path="/")


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def login_nonce(request: Request) -> tuple[str, bool]:
    """The login form's nonce: this browser's, or a new one (True: set its cookie)."""
    nonce = _read(request, LOGIN_COOKIE)
    return (nonce, False) if nonce else (secrets.token_urlsafe(16), True)


def login_cookie(request: Request) -> str | None:
    """The nonce this browser was given with the login form, if its signature holds."""
    return _read(request, LOGIN_COOKIE)


def set_login_nonce(request: Request, response: Response, nonce: str) -> None:
    _write(request, response, LOGIN_COOKIE, nonce)


def csrf_token(secret: str) -> str:
    """The CSRF token of forms shown to the holder of ``secret`` (a session token or a
    login nonce)."""
    return hmac.new(signing_key(), b"csrf:" + secret.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str | None, given: str | None) -> bool:
    if not secret or not given:
        return False
    return hmac.compare_digest(csrf_token(secret), given)
