"""A loopback fake of the Cloudinary APIs our storage back end uses (payments_storage.md D.1, F).

    with CloudinaryFake(cloud="demo-cloud", api_key="123", api_secret="s3cr3t") as fake:
        fake.url                      # put it in [cloudinary] api_base
        fake.assets                   # {(resource_type, type, public_id): Asset}
        fake.fail_next(503)           # the next API call answers 503 {"error": {...}}
        fake.requests                 # (method, path) of every call

Upload API (signed like the SDK signs: every field except ``file``, ``api_key``,
``signature``, ``resource_type``, ``cloud_name``; non-empty values; sorted ``k=v`` joined by
``&`` with ``&`` inside values written ``%26``; the API secret appended; SHA-1 hex):

* ``POST /v1_1/<cloud>/<rt>/upload`` multipart, chunked too (``Content-Range`` +
  ``X-Unique-Upload-Id``, as ``upload_large`` sends), answers ``{public_id, version,
  resource_type, type, format, bytes, secure_url, url, created_at}``;
* ``POST /v1_1/<cloud>/<rt>/destroy`` answers ``{"result": "ok" | "not found"}``;
* ``GET /v1_1/<cloud>/<rt>/download?...&signature=`` (the signed download API; checks
  ``expires_at``) streams the bytes.

A ``timestamp`` older than an hour answers 401 "Stale request"; a wrong signature 401
"Invalid Signature". Admin API (HTTP Basic ``api_key:api_secret``):
``GET /v1_1/<cloud>/resources/<rt>/<type>?prefix=&max_results=&next_cursor=`` and
``GET /v1_1/<cloud>/resources/<rt>/<type>/<public id>`` (404 when missing).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

UNSIGNED = frozenset({"file", "api_key", "signature", "resource_type", "cloud_name"})
STALE_AFTER_S = 3600


@dataclass
class Asset:
    data: bytes
    format: str | None
    version: int
    created_at: datetime


@dataclass
class _Chunked:
    parts: dict[int, bytes] = field(default_factory=dict)


def string_to_sign(params: dict[str, str]) -> str:
    items = sorted((k, v) for k, v in params.items() if k not in UNSIGNED and v not in ("", None))
    return "&".join(f"{k}={str(v).replace('&', '%26')}" for k, v in items)


def sign(params: dict[str, str], secret: str) -> str:
    return hashlib.sha1((string_to_sign(params) + secret).encode("utf-8")).hexdigest()


def _json(body: Any, status: int = 200) -> Response:
    import json

    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": {"message": message}}, status)


class CloudinaryFake:
    def __init__(
        self,
        cloud: str = "demo-cloud",
        api_key: str = "123456789012345",
        api_secret: str = "fake-secret-abcdefghijklmnop",
        clock: Any = time.time,
    ) -> None:
        self.cloud, self.api_key, self.api_secret = cloud, api_key, api_secret
        self.clock = clock
        self.assets: dict[tuple[str, str, str], Asset] = {}
        self.requests: list[tuple[str, str]] = []
        self.bad_signatures = 0
        self._chunks: dict[str, _Chunked] = {}
        self._fail: list[int] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ---------------------------------------------------------------------------- control

    def __enter__(self) -> CloudinaryFake:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._fail.extend([status] * times)

    # ---------------------------------------------------------------------------- routing

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        with self._lock:
            if self._fail:
                return _error(self._fail.pop(0), "General Error")
        parts = request.path.strip("/").split("/")
        if len(parts) < 4 or parts[0] != "v1_1" or parts[1] != self.cloud:
            return _error(404, "Not found")
        if parts[2] == "resources" and request.method == "GET":
            return self._admin(request, parts[3:])
        resource_type, action = parts[2], parts[3]
        if action == "upload" and request.method == "POST":
            return self._upload(request, resource_type)
        if action == "destroy" and request.method == "POST":
            return self._destroy(request, resource_type)
        if action == "download" and request.method == "GET":
            return self._download(request, resource_type)
        return _error(404, "Not found")

    def _check_signature(self, params: MultiDict[str, str]) -> Response | None:
        flat = {k: params.get(k, "") for k in params}
        if flat.get("api_key") != self.api_key:
            return _error(401, "Invalid api_key")
        if abs(self.clock() - float(flat.get("timestamp") or 0)) > STALE_AFTER_S:
            return _error(401, "Stale request")
        if flat.get("signature") != sign(flat, self.api_secret):
            self.bad_signatures += 1
            return _error(401, f"Invalid Signature. String to sign - '{string_to_sign(flat)}'.")
        return None

    # ---------------------------------------------------------------------------- upload

    def _upload(self, request: Request, resource_type: str) -> Response:
        form = request.form
        if (denied := self._check_signature(form)) is not None:
            return denied
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "Missing required parameter - file")
        data = upload.read()
        content_range = request.headers.get("Content-Range")
        if content_range:  # upload_large: "bytes start-end/total"
            upload_id = request.headers.get("X-Unique-Upload-Id", "")
            span, total = content_range.split(" ", 1)[1].split("/")
            start = int(span.split("-")[0])
            chunked = self._chunks.setdefault(upload_id, _Chunked())
            chunked.parts[start] = data
            received = sum(len(p) for p in chunked.parts.values())
            if received < int(total):  # the SDK sends the next part with this public_id
                return _json({"done": False, "public_id": form.get("public_id")})
            data = b"".join(chunked.parts[k] for k in sorted(chunked.parts))
            del self._chunks[upload_id]
        public_id = form.get("public_id") or hashlib.sha1(data).hexdigest()[:20]
        if form.get("folder"):
            public_id = f"{form['folder']}/{public_id}"
        delivery = form.get("type") or "upload"
        fmt = None
        if resource_type != "raw":
            fmt = (upload.filename or "").rsplit(".", 1)[-1].lower() or None
        asset = Asset(data, fmt, int(self.clock()), datetime.now(UTC))
        self.assets[(resource_type, delivery, public_id)] = asset
        return _json(self._describe(resource_type, delivery, public_id, asset))

    def _describe(self, rt: str, delivery: str, public_id: str, asset: Asset) -> dict[str, Any]:
        suffix = f".{asset.format}" if asset.format else ""
        path = f"{self.cloud}/{rt}/{delivery}/v{asset.version}/{public_id}{suffix}"
        return {
            "public_id": public_id,
            "version": asset.version,
            "resource_type": rt,
            "type": delivery,
            "format": asset.format,
            "bytes": len(asset.data),
            "created_at": asset.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "url": f"http://res.cloudinary.com/{path}",
            "secure_url": f"https://res.cloudinary.com/{path}",
        }

    def _destroy(self, request: Request, resource_type: str) -> Response:
        form = request.form
        if (denied := self._check_signature(form)) is not None:
            return denied
        found = self.assets.pop(
            (resource_type, form.get("type") or "upload", form.get("public_id", "")), None
        )
        return _json({"result": "ok" if found else "not found"})

    def _download(self, request: Request, resource_type: str) -> Response:
        args = request.args
        if (denied := self._check_signature(args)) is not None:
            return denied
        if args.get("expires_at") and float(args["expires_at"]) < self.clock():
            return _error(401, "Expired")
        key = (resource_type, args.get("type") or "upload", args.get("public_id", ""))
        asset = self.assets.get(key)
        if asset is None or (asset.format or "") != (args.get("format") or ""):
            return _error(404, "Resource not found")
        response = Response(asset.data, mimetype="application/octet-stream")
        if args.get("attachment"):
            response.headers["Content-Disposition"] = "attachment"
        return response

    # ------------------------------------------------------------------------- admin API

    def _admin(self, request: Request, parts: list[str]) -> Response:
        expected = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return _error(401, "Invalid credentials")
        if len(parts) < 2:
            return _error(404, "Not found")
        rt, delivery = parts[0], parts[1]
        if len(parts) > 2:  # one resource
            public_id = "/".join(parts[2:])
            asset = self.assets.get((rt, delivery, public_id))
            if asset is None:
                return _error(404, f"Resource not found - {public_id}")
            return _json(self._describe(rt, delivery, public_id, asset))
        prefix = request.args.get("prefix", "")
        limit = int(request.args.get("max_results", "10"))
        start = int(request.args.get("next_cursor") or 0)
        matching = sorted(
            pid
            for (r, d, pid) in self.assets
            if r == rt and d == delivery and pid.startswith(prefix)
        )
        page = matching[start : start + limit]
        body: dict[str, Any] = {
            "resources": [
                self._describe(rt, delivery, pid, self.assets[(rt, delivery, pid)]) for pid in page
            ]
        }
        if start + limit < len(matching):
            body["next_cursor"] = str(start + limit)
        return _json(body)
