"""A small HTTP client for model servers: a deadline for the whole call, no redirects, a size cap.

Used by the OpenAI-compatible perception backends (:mod:`cvr_gym.perception.http_backends`) and
CrossVid's CCQA judge (:mod:`cvr_gym.core.ccqa_judge`). Only the standard library is used
(``urllib.request``). Each attempt must finish within ``timeout`` seconds in all (connecting,
sending and reading the whole reply, however slowly the server drips it), and a reply may hold at
most ``max_reply_bytes``. Redirects are never followed: a redirect could carry the API key to
another host, and a redirected POST loses its body anyway; a 3xx reply is an error naming the
target. Calls are retried ``retries`` times with exponential backoff (``backoff * 2**attempt``
seconds) on timeouts, connection errors, 5xx responses and 408/429; other 4xx responses fail at
once. The API key (given, or read from the environment variable ``api_key_env`` when a request
is made) is sent as ``Authorization: Bearer ...`` and never logged nor put in an error message.
Requests to loopback hosts bypass any configured HTTP proxy. Failures raise the ``error`` class
the client was built with, naming the URL, the status code and the last error.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

_RETRY_STATUS = frozenset({408, 429})
ERROR_BODY_CHARS = 300
#: Largest reply read by default (bytes); a perception reply is a few kilobytes.
MAX_REPLY_BYTES = 16 * 2**20
_CHUNK = 64 * 1024
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Sockets opened by the current thread's request, so a deadline can cut them off mid-read.
_REQUEST = threading.local()


def _track(sock: Any) -> None:
    socks = getattr(_REQUEST, "socks", None)
    if socks is not None:
        socks.append(sock)


class _TrackedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _track(self.sock)


class _TrackedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _track(self.sock)


class _TrackedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_TrackedHTTPConnection, req)


class _TrackedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_TrackedHTTPSConnection, req, context=getattr(self, "_context", None))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: the 3xx reply surfaces as an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _ReplyTooLarge(Exception):
    pass


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (``"\\ud800"`` in a JSON reply) replaced by U+FFFD, so it
    can be written as UTF-8."""
    return _SURROGATES.sub("\ufffd", text)


class HTTPClient:
    """Requests to ``base_url`` with a whole-call deadline, retries and backoff (see the module).

    Arguments:
        name: who calls, for error messages (a backend's or the judge's name).
        base_url: ``http://`` or ``https://`` address; paths are joined onto it.
        api_key_env: environment variable holding the API key, read per request.
        timeout: seconds one attempt may take in all.
        retries, backoff: further attempts on transient failures, and the first pause between them.
        max_reply_bytes: the largest reply read.
        error: the exception class raised when a call fails.
        api_key: an API key given directly (wins over ``api_key_env``).
    """

    def __init__(self, name: str, base_url: str, api_key_env: str | None, timeout: float,
                 retries: int, backoff: float, max_reply_bytes: int = MAX_REPLY_BYTES,
                 error: type[Exception] = RuntimeError, api_key: str | None = None) -> None:
        if not base_url or not re.match(r"^https?://", base_url):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be positive, retries and backoff non-negative")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_reply_bytes = int(max_reply_bytes)
        self.error = error
        self._api_key = api_key
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        handlers: list[Any] = [urllib.request.ProxyHandler({})] if is_loopback(host) else []
        handlers += [_TrackedHTTPHandler(), _TrackedHTTPSHandler(), _NoRedirect()]
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _headers(self, content_type: str) -> dict[str, str]:
        # A named User-Agent: some proxies and CDNs refuse urllib's default one.
        headers = {"Content-Type": content_type, "User-Agent": "cvr-gym"}
        key = self._api_key or (os.environ.get(self.api_key_env, "").strip() if self.api_key_env else "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def post(self, path: str, body: bytes, content_type: str) -> bytes:
        """The reply's body to a POST of ``body``."""
        return self.request("POST", path, body, content_type)

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json") -> bytes:
        """The reply's body, within the deadline, the size cap and the retries."""
        url = self.url(path)
        attempts = self.retries + 1
        last = "no attempt made"
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(url, data=body, method=method, headers=self._headers(content_type))
            socks: list[Any] = []
            fired: list[bool] = []
            timer = threading.Timer(self.timeout, _cut_off, (socks, fired))
            timer.daemon = True
            _REQUEST.socks = socks
            deadline = time.monotonic() + self.timeout
            timer.start()
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return self._read(response, deadline)
            except urllib.error.HTTPError as err:
                if 300 <= err.code < 400:
                    target = err.headers.get("Location", "?") if err.headers else "?"
                    raise self.error(f"{self.name}: {method} {url} was redirected (HTTP {err.code}) to "
                                     f"{target[:200]}; redirects are not followed, set base_url to "
                                     f"the final address") from None
                detail = _error_body(err)
                last = f"HTTP {err.code}" + (f": {detail}" if detail else "")
                if not (err.code >= 500 or err.code in _RETRY_STATUS):
                    raise self.error(f"{self.name}: {method} {url} failed: {last} (not retried)") from None
            except _ReplyTooLarge:
                raise self.error(f"{self.name}: {method} {url} replied with more than "
                                 f"{self.max_reply_bytes} bytes (not read; not retried)") from None
            except (TimeoutError, socket.timeout):
                last = f"timed out after {self.timeout:g} s"
            except urllib.error.URLError as err:
                reason = err.reason
                if fired or isinstance(reason, (TimeoutError, socket.timeout)):
                    last = f"timed out after {self.timeout:g} s"
                else:
                    last = f"connection error: {reason}"
            except (OSError, http.client.HTTPException, ValueError) as err:  # reset, refused, truncated
                if fired:
                    last = f"timed out after {self.timeout:g} s"
                else:
                    last = f"connection error: {type(err).__name__}: {err}"
            finally:
                timer.cancel()
                _REQUEST.socks = None
        raise self.error(f"{self.name}: {method} {url} failed after {attempts} attempt(s): {last}")

    def _read(self, response: Any, deadline: float) -> bytes:
        """The whole reply, within the deadline and the size cap."""
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_reply_bytes:
            raise _ReplyTooLarge()
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError()
            chunk = response.read(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise _ReplyTooLarge()
            chunks.append(chunk)

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        """The JSON reply to a JSON POST."""
        return self._json("POST", path, json.dumps(payload).encode("utf-8"))

    def get_json(self, path: str) -> Any:
        """The JSON reply to a GET."""
        return self._json("GET", path, None)

    def _json(self, method: str, path: str, body: bytes | None) -> Any:
        raw = self.request(method, path, body)
        try:
            return loads_reply(raw)
        except ValueError as err:
            raise self.error(f"{self.name}: {method} {self.url(path)} returned a body that is not JSON: "
                             f"{raw[:ERROR_BODY_CHARS]!r}") from err


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_reply(raw: "bytes | str") -> Any:
    """``json.loads`` for a server's reply: ``NaN``/``Infinity`` and nesting too deep for the
    parser are malformed bodies (``ValueError``) like any other, not a crash of the episode."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _cut_off(socks: list[Any], fired: list[bool]) -> None:
    """The deadline passed: shut the request's sockets so a blocked read returns at once."""
    fired.append(True)
    for sock in list(socks):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_body(err: urllib.error.HTTPError) -> str:
    try:
        raw = err.read()
    except Exception:
        return ""
    text = raw.decode("utf-8", "replace").strip()
    try:  # OpenAI-style {"error": {"message": ...}}
        data = loads_reply(text)
        message = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(message, dict):
            message = message.get("message", message)
        text = str(message)
    except ValueError:
        pass
    text = " ".join(text.split())
    return text[:ERROR_BODY_CHARS] + ("..." if len(text) > ERROR_BODY_CHARS else "")


__all__ = ["ERROR_BODY_CHARS", "HTTPClient", "MAX_REPLY_BYTES", "clean_text", "is_loopback", "loads_reply"]
