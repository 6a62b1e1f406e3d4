"""A client of the Synthos API, standard library only (Python 3.9+).

Synthos has a method per operation of the API's OpenAPI document
(generated into _operations.py), call(operation_id, ...) for any of them by
id, and a hand-written layer: upload() and upload_resumable(), create_job()
with an Idempotency-Key, wait_for_job() with exponential backoff,
download_output(), and errors as typed exceptions carrying the API's code.
"""

from ._client import RESUMABLE_GRANULARITY, TERMINAL, Result, Synthos
from ._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IdempotencyKeyReusedError,
    JobFailedError,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PermissionDeniedError,
    QuotaExceededError,
    ServerError,
    SynthosAPIError,
    SynthosConnectionError,
    SynthosError,
    UnsupportedMediaTypeError,
    WaitTimeoutError,
)
from ._operations import OPERATIONS

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "IdempotencyKeyReusedError",
    "JobFailedError",
    "NotFoundError",
    "OPERATIONS",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RESUMABLE_GRANULARITY",
    "Result",
    "ServerError",
    "Synthos",
    "SynthosAPIError",
    "SynthosConnectionError",
    "SynthosError",
    "TERMINAL",
    "UnsupportedMediaTypeError",
    "WaitTimeoutError",
]
