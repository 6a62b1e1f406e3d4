"""Errors of the Synthos client.

Every API error answers the envelope {"error": {"code", "message",
"details"}}; callers act on the code (SynthosAPIError.code), never on the
message, and may catch a class per HTTP status.
"""

import json


class SynthosError(Exception):
    """The root of every error this client raises."""


class SynthosAPIError(SynthosError):
    """An API answer with an error status.

    status is the HTTP status, code the API's error code (invalid_request,
    not_found, upload_offset_mismatch, ...), details its details (field,
    row, column, limit_bytes, ...), operation what was called, retry_after
    the Retry-After header in seconds when the API sent one.
    """

    def __init__(self, operation, status, code, message, details=None, retry_after=None):
        super().__init__("%s: %d %s: %s" % (operation, status, code, message))
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.retry_after = retry_after


class BadRequestError(SynthosAPIError):
    """400: the request or the table is invalid (details.field, row, column)."""


class AuthenticationError(SynthosAPIError):
    """401: a missing, malformed, unknown or revoked API key."""


class PaymentRequiredError(SynthosAPIError):
    """402: the plan does not allow this."""


class PermissionDeniedError(SynthosAPIError):
    """403: the key lacks the scope."""


class NotFoundError(SynthosAPIError):
    """404: no such resource (code not_ready while an output is not there yet)."""


class ConflictError(SynthosAPIError):
    """409: a finished job, a dataset not ready, an upload offset mismatch, an exhausted privacy budget, ..."""


class PayloadTooLargeError(SynthosAPIError):
    """413: details.limit_bytes names the limit."""


class UnsupportedMediaTypeError(SynthosAPIError):
    """415."""


class IdempotencyKeyReusedError(SynthosAPIError):
    """422: an Idempotency-Key reused with a different request."""


class QuotaExceededError(SynthosAPIError):
    """429: a quota or rate limit (details.limit, details.resets_at)."""


class ServerError(SynthosAPIError):
    """5xx (503 unavailable carries retry_after)."""


_BY_STATUS = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: IdempotencyKeyReusedError,
    429: QuotaExceededError,
}


def api_error(operation, status, headers, body):
    """api_error builds the typed error of an error answer. A body that is
    not the envelope (a proxy's page) keeps the status, with code
    http_<status> and the start of the body as message."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else SynthosAPIError)
    retry_after = None
    try:
        ra = float(headers.get("Retry-After") or 0)
        retry_after = ra if ra > 0 else None
    except ValueError:
        pass
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body or "")
    try:
        env = json.loads(text).get("error")
    except (ValueError, AttributeError):
        env = None
    if isinstance(env, dict) and isinstance(env.get("code"), str):
        return cls(operation, status, env["code"], str(env.get("message", "")), env.get("details") or {}, retry_after)
    return cls(operation, status, "http_%d" % status, text[:200], {}, retry_after)


class JobFailedError(SynthosError):
    """wait_for_job saw the job end failed or cancelled: code is the job's
    error_code (invalid_argument, failed_precondition, resource_exhausted,
    ...), or canceled."""

    def __init__(self, job):
        msg = "job %s ended %s" % (job.get("id"), job.get("state"))
        if job.get("error"):
            msg += ": " + job["error"]
        super().__init__(msg)
        self.job = job
        self.job_id = job.get("id")
        self.state = job.get("state")
        self.code = job.get("error_code") or ("canceled" if job.get("state") == "cancelled" else "unknown")


class WaitTimeoutError(SynthosError):
    """wait_for_job's timeout passed before the job finished."""

    def __init__(self, job_id, state, timeout):
        super().__init__("job %s is still %s after %g s" % (job_id, state, timeout))
        self.job_id = job_id
        self.state = state


class SynthosConnectionError(SynthosError):
    """The API could not be reached (refused, reset, timed out); the cause
    is the underlying OSError."""
