"""The Synthos client: call() and the hand-written layer over the
generated Operations (one method per operationId)."""

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from ._errors import (
    JobFailedError,
    SynthosAPIError,
    SynthosConnectionError,
    SynthosError,
    WaitTimeoutError,
    api_error,
)
from ._operations import OPERATIONS, Operations

# TERMINAL are the job states that do not change any more.
TERMINAL = ("succeeded", "failed", "cancelled")

# RESUMABLE_GRANULARITY: every chunk but the last is a multiple of it
# (256 KiB, as Cloud Storage asks).
RESUMABLE_GRANULARITY = 256 * 1024


class Result:
    """What call() answers: the status, the headers (case-insensitive get)
    and the decoded body: JSON as Python values, other media as bytes, None
    without a body, the open response for event streams."""

    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    def __repr__(self):
        return "Result(status=%d, data=%r)" % (self.status, self.data)


def urllib_transport(method, url, headers, body, timeout):
    """The default transport: one request with urllib. It answers the
    response, error statuses included (urllib raises them as HTTPError,
    which is a response too), and raises SynthosConnectionError when the
    server cannot be reached."""
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        # 4xx, 5xx, and 308 (no Location: putDatasetContent's "send more").
        return e
    except (urllib.error.URLError, OSError) as e:
        raise SynthosConnectionError("%s %s: %s" % (method, url, getattr(e, "reason", e))) from e


def _status(resp):
    return getattr(resp, "status", None) or resp.code


class Synthos(Operations):
    """A client of one Synthos API with one API key.

    transport(method, url, headers, body, timeout) sends one request and
    answers a response (status, headers, read()); the default is urllib.
    max_retries is how often a request that is safe to repeat (GET, HEAD,
    or one with an Idempotency-Key) is retried after a connection error,
    429, 502, 503 or 504, waiting Retry-After (up to a minute) or an
    exponential backoff; 0 turns retries off.
    """

    def __init__(self, base_url, api_key, *, timeout=60.0, transport=None, max_retries=2):
        if not base_url:
            raise SynthosError("Synthos: base_url is required (e.g. http://127.0.0.1:8080, or set SYNTHOS_API)")
        if not api_key:
            raise SynthosError("Synthos: api_key is required (sk_live_..., or set SYNTHOS_API_KEY)")
        u = urllib.parse.urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise SynthosError("Synthos: base_url %r is not an http(s) URL" % base_url)
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self._transport = transport or urllib_transport
        self.max_retries = max_retries

    @classmethod
    def from_env(cls, env=None, **kwargs):
        """from_env builds a client from SYNTHOS_API and SYNTHOS_API_KEY."""
        env = os.environ if env is None else env
        return cls(env.get("SYNTHOS_API", ""), env.get("SYNTHOS_API_KEY", ""), **kwargs)

    # -- any operation by id -------------------------------------------

    def call(self, operation_id, path=None, query=None, headers=None, body=None, stream=False):
        """call runs the operation operation_id of the OpenAPI document and
        answers a Result; an error status raises the SynthosAPIError of its
        class. body is a JSON value, a dict of multipart fields ({"file":
        (name, bytes)}) or bytes, as the operation takes."""
        op = OPERATIONS.get(operation_id)
        if op is None:
            raise SynthosError("Synthos.call: unknown operation %r (see synthos.OPERATIONS)" % (operation_id,))
        url_path = op["path"]
        for name in op["path_params"]:
            value = (path or {}).get(name)
            if value is None or value == "":
                raise SynthosError("%s: path parameter %s is required (%s %s)" % (operation_id, name, op["method"], op["path"]))
            url_path = url_path.replace("{%s}" % name, urllib.parse.quote(str(value), safe=""))
        url = self.base_url + url_path
        q = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        if q:
            url += "?" + urllib.parse.urlencode(q)
        hdrs = {"Authorization": "Bearer " + self._api_key, "User-Agent": "synthos-python/0.1"}
        hdrs.update({k: v for k, v in (headers or {}).items() if v is not None})
        data = None
        if body is not None:
            if op["request"] == "multipart":
                data, ctype = _multipart(body)
            elif op["request"] == "binary":
                data, ctype = bytes(body), "application/octet-stream"
            else:
                data, ctype = json.dumps(body).encode("utf-8"), "application/json"
            hdrs.setdefault("Content-Type", ctype)
        label = "%s (%s %s)" % (operation_id, op["method"], op["path"])
        resp = self._send(op["method"], url, hdrs, data)
        status = _status(resp)
        # 308 is putDatasetContent's "stored, send more": a success with a body.
        if status >= 400 or (300 <= status < 400 and status != 308):
            try:
                raise api_error(label, status, resp.headers, resp.read())
            finally:
                resp.close()
        if stream:
            return Result(status, resp.headers, resp)
        try:
            raw = resp.read()
        finally:
            resp.close()
        return Result(status, resp.headers, _decode(resp.headers, raw))

    def _send(self, method, url, headers, body):
        """_send sends one request, and again after a connection error, 429,
        502, 503 or 504 when it is safe to repeat: a GET or HEAD, or one
        with an Idempotency-Key (the API answers a repeat with the first
        answer). A Retry-After over a minute (a monthly quota) is not
        waited for: the caller gets the 429."""
        safe = method in ("GET", "HEAD") or any(k.lower() == "idempotency-key" for k in headers)
        attempt = 0
        while True:
            last = not safe or attempt >= self.max_retries
            wait = min(0.25 * 2 ** attempt, 8.0)
            try:
                resp = self._transport(method, url, headers, body, self.timeout)
            except SynthosConnectionError:
                if last:
                    raise
            else:
                if last or _status(resp) not in (429, 502, 503, 504):
                    return resp
                try:
                    ra = float(resp.headers.get("Retry-After") or 0)
                except ValueError:
                    ra = 0
                if ra > 60:
                    return resp
                resp.close()
                wait = ra or wait
            time.sleep(wait)
            attempt += 1

    # -- uploads ---------------------------------------------------------

    def upload(self, file, name=None, *, idempotency_key=None):
        """upload sends a table (up to 64 MiB) as multipart/form-data and
        answers the dataset. file is a path, bytes or a binary file; name
        (default: the file's name) gives the format by its extension."""
        src = _Source(file, name)
        return self.upload_dataset({"file": (src.name, src.read(0, src.size))}, idempotency_key=idempotency_key)

    def upload_resumable(self, file, name=None, *, chunk_size=None, retries=5, on_progress=None, idempotency_key=None):
        """upload_resumable sends a table of any size up to the server's
        limit through an upload session: POST /v1/datasets/uploads, the
        bytes in chunks to its upload_url (each retried, resuming from what
        the server stored), then POST /v1/datasets/{id}/complete."""
        src = _Source(file, name)
        up = self.begin_upload({"name": src.name, "size": src.size}, idempotency_key=idempotency_key)
        return self.resume_upload(up, src, chunk_size=chunk_size, retries=retries, on_progress=on_progress,
                                  idempotency_key=idempotency_key)

    def resume_upload(self, upload, file, *, chunk_size=None, retries=5, on_progress=None, idempotency_key=None):
        """resume_upload finishes an upload session begun earlier (by this
        process or another): it asks the upload URL how many bytes are
        stored, sends the rest and completes the dataset."""
        src = file if isinstance(file, _Source) else _Source(file, upload["dataset"]["name"])
        total = src.size
        if upload.get("protocol") == "put":
            self._put(upload, src.read(0, total), None)
        else:
            chunk = chunk_size or upload.get("chunk_size") or 32 * RESUMABLE_GRANULARITY
            if not isinstance(chunk, int) or chunk <= 0 or chunk % RESUMABLE_GRANULARITY:
                raise SynthosError("resume_upload: chunk_size %r must be a positive multiple of %d (256 KiB)" % (chunk, RESUMABLE_GRANULARITY))
            query = "bytes */%d" % total
            sent = _with_retries(retries, lambda attempt: self._put(upload, None, query))
            if on_progress:
                on_progress(sent, total)
            while sent < total:
                start, end = sent, min(sent + chunk, total)

                def send(attempt, start=start, end=end):
                    if attempt:
                        # After a failure the server may hold part of the
                        # chunk or all of it: ask, and send from there.
                        start = self._put(upload, None, query)
                        if start >= end:
                            return start
                    return self._put(upload, src.read(start, end), "bytes %d-%d/%d" % (start, end - 1, total))

                sent = _with_retries(retries, send)
                if on_progress:
                    on_progress(sent, total)
        key = idempotency_key and idempotency_key + "/complete"
        return self.complete_upload(upload["dataset"]["id"], idempotency_key=key)

    def _put(self, upload, body, content_range):
        """_put sends one PUT to the upload URL and answers how many bytes
        the session holds. The URL is the API's own (with the key) or a
        Cloud Storage session (no key; its own headers)."""
        url = upload["upload_url"]
        hdrs = dict(upload.get("headers") or {})
        if _origin(url) == _origin(self.base_url):
            hdrs["Authorization"] = "Bearer " + self._api_key
        if content_range:
            hdrs["Content-Range"] = content_range
        if body is not None:
            hdrs.setdefault("Content-Type", "application/octet-stream")
        resp = self._transport(upload.get("method") or "PUT", url, hdrs, body, self.timeout)
        status = _status(resp)
        try:
            raw = resp.read()
        finally:
            resp.close()
        if status == 308:
            # Range: bytes=0-LAST says what is stored; none means nothing is.
            m = re.search(r"bytes=0-(\d+)", resp.headers.get("Range") or "")
            return int(m.group(1)) + 1 if m else 0
        if status >= 300:
            raise api_error("upload %s (PUT %s)" % (upload["dataset"]["id"], content_range or "whole"), status, resp.headers, raw)
        # 200/201: the session holds every byte.
        m = re.search(r"/(\d+)$", content_range or "")
        if m:
            return int(m.group(1))
        return len(body or b"")

    # -- jobs ------------------------------------------------------------

    def create_job(self, body, *, idempotency_key=None, headers=None):
        """create_job queues a generation job (POST /v1/jobs). The
        Idempotency-Key makes a retry safe: the same key and request answer
        the same job for 24 h; the same key with another request raises
        IdempotencyKeyReusedError. Without one, a random key is sent."""
        key = idempotency_key or str(uuid.uuid4())
        return super().create_job(body, idempotency_key=key, headers=headers)

    def wait_for_job(self, job_id, *, initial_delay=0.5, max_delay=10.0, factor=2.0, timeout=None,
                     raise_on_failure=True, on_poll=None, sleep=time.sleep):
        """wait_for_job polls a job until it is succeeded, failed or
        cancelled, pausing initial_delay seconds, then factor times longer
        each time up to max_delay. 429 and 5xx answers and connection errors
        are waited out (Retry-After when the API sends one). A failed or
        cancelled job raises JobFailedError with the job's error_code unless
        raise_on_failure is False; timeout (seconds, default none) raises
        WaitTimeoutError."""
        start = time.monotonic()
        delay = initial_delay
        state = "unknown"
        while True:
            pause = delay
            try:
                job = self.get_job(job_id)
                state = job["state"]
                if on_poll:
                    on_poll(job)
                if state in TERMINAL:
                    if state != "succeeded" and raise_on_failure:
                        raise JobFailedError(job)
                    return job
            except (SynthosAPIError, SynthosConnectionError) as e:
                if not _transient(e):
                    raise
                if getattr(e, "retry_after", None):
                    pause = max(pause, e.retry_after)
            if timeout is not None and time.monotonic() - start + pause > timeout:
                raise WaitTimeoutError(job_id, state, timeout)
            sleep(pause)
            delay = min(delay * factor, max_delay)

    def download_output(self, job_id):
        """download_output answers the job's synthetic table as bytes,
        fetched through the URL the API hands out (a signed URL, or the
        API's own endpoint with the key)."""
        dl = self.get_output(job_id)
        hdrs = {"Authorization": "Bearer " + self._api_key} if dl.get("authenticated") else {}
        resp = self._send("GET", dl["url"], hdrs, None)
        status = _status(resp)
        try:
            raw = resp.read()
        finally:
            resp.close()
        if status >= 300:
            raise api_error("download output of %s" % job_id, status, resp.headers, raw)
        return raw


class _Source:
    """_Source is a table to upload: a path, bytes or a seekable binary
    file, read by ranges so large files are not held in memory."""

    def __init__(self, file, name):
        self._path = self._bytes = self._file = None
        if isinstance(file, (str, os.PathLike)):
            self._path = os.fspath(file)
            self.size = os.path.getsize(self._path)
            self.name = name or os.path.basename(self._path)
        elif isinstance(file, (bytes, bytearray, memoryview)):
            self._bytes = bytes(file)
            self.size = len(self._bytes)
            self.name = name
        elif hasattr(file, "read") and hasattr(file, "seek"):
            self._file = file
            self.size = file.seek(0, os.SEEK_END)
            self.name = name or os.path.basename(getattr(file, "name", "") or "")
        else:
            raise SynthosError("upload: the table must be a path, bytes or a seekable binary file, not %s" % type(file).__name__)
        if not self.name:
            raise SynthosError("upload: name the table (e.g. name='table.csv'): its extension gives the format")

    def read(self, start, end):
        if self._bytes is not None:
            return self._bytes[start:end]
        if self._path is not None:
            with open(self._path, "rb") as f:
                f.seek(start)
                return f.read(end - start)
        self._file.seek(start)
        return self._file.read(end - start)


def _with_retries(retries, f):
    """_with_retries calls f(attempt) until it succeeds, retrying transient
    failures up to retries times with exponential backoff."""
    attempt = 0
    while True:
        try:
            return f(attempt)
        except (SynthosAPIError, SynthosConnectionError) as e:
            if attempt >= retries or not _transient(e):
                raise
            wait = getattr(e, "retry_after", None) or min(0.25 * 2 ** attempt, 8.0)
            time.sleep(wait)
            attempt += 1


def _transient(err):
    if isinstance(err, SynthosConnectionError):
        return True
    return isinstance(err, SynthosAPIError) and (err.status == 429 or err.status >= 500)


def _origin(url):
    u = urllib.parse.urlsplit(url)
    return (u.scheme, u.netloc)


def _query_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def _decode(headers, raw):
    if not raw:
        return None
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        return json.loads(raw.decode("utf-8"))
    return raw


def _multipart(fields):
    """_multipart encodes {"name": value} as multipart/form-data; a value is
    (filename, bytes[, content type]), bytes or text."""
    if not isinstance(fields, dict):
        raise SynthosError("a multipart body is a dict of fields, e.g. {'file': ('table.csv', data)}")
    boundary = "synthos-" + uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(b"--" + boundary.encode() + b"\r\n")
        if isinstance(value, tuple):
            filename, content = value[0], value[1]
            ctype = value[2] if len(value) > 2 else "application/octet-stream"
            out.append(('Content-Disposition: form-data; name="%s"; filename="%s"\r\n' % (_quote(name), _quote(filename))).encode())
            out.append(("Content-Type: %s\r\n\r\n" % ctype).encode())
            out.append(bytes(content))
        else:
            out.append(('Content-Disposition: form-data; name="%s"\r\n\r\n' % _quote(name)).encode())
            out.append(value if isinstance(value, bytes) else str(value).encode())
        out.append(b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def _quote(s):
    return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
