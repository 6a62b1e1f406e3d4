// Errors of the Synthos client. Every API error answers the envelope
// {"error":{"code","message","details"}} (shared/web); callers act on the
// code (SynthosApiError.code), never on the message, and may catch a class
// per HTTP status.
/** SynthosError is the root of every error this client throws. */
export class SynthosError extends Error {
    constructor(message, options) {
        super(message, options);
        this.name = new.target.name;
    }
}
/** SynthosApiError is an API answer with an error status. */
export class SynthosApiError extends SynthosError {
    /** the HTTP status */
    status;
    /** the API's error code (e.g. invalid_request, not_found, upload_offset_mismatch) */
    code;
    /** the API's details (e.g. field, row, column, limit_bytes), or {} */
    details;
    /** the operation that failed, e.g. "POST /v1/jobs" */
    operation;
    /** the Retry-After header in seconds, when the API sent one */
    retryAfter;
    constructor(operation, status, code, message, details, retryAfter) {
        super(`${operation}: ${status} ${code}: ${message}`);
        this.operation = operation;
        this.status = status;
        this.code = code;
        this.details = details;
        this.retryAfter = retryAfter;
    }
}
/** BadRequestError: 400, the request or the table is invalid (details.field, details.row, details.column). */
export class BadRequestError extends SynthosApiError {
}
/** AuthenticationError: 401, a missing, malformed, unknown or revoked API key. */
export class AuthenticationError extends SynthosApiError {
}
/** PaymentRequiredError: 402, the plan does not allow this. */
export class PaymentRequiredError extends SynthosApiError {
}
/** PermissionDeniedError: 403, the key lacks the scope. */
export class PermissionDeniedError extends SynthosApiError {
}
/** NotFoundError: 404, no such resource (code not_ready while an output is not there yet). */
export class NotFoundError extends SynthosApiError {
}
/** ConflictError: 409, e.g. a finished job, a dataset not ready, an upload offset mismatch, an exhausted privacy budget. */
export class ConflictError extends SynthosApiError {
}
/** PayloadTooLargeError: 413, details.limit_bytes names the limit. */
export class PayloadTooLargeError extends SynthosApiError {
}
/** UnsupportedMediaTypeError: 415. */
export class UnsupportedMediaTypeError extends SynthosApiError {
}
/** IdempotencyKeyReusedError: 422, an Idempotency-Key reused with a different request. */
export class IdempotencyKeyReusedError extends SynthosApiError {
}
/** QuotaExceededError: 429, a quota or rate limit (details.limit, details.resets_at). */
export class QuotaExceededError extends SynthosApiError {
}
/** ServerError: 5xx (503 unavailable carries retryAfter). */
export class ServerError extends SynthosApiError {
}
const byStatus = {
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
};
/**
 * apiError builds the typed error of an error answer from its status and
 * body. A body that is not the envelope (a proxy's HTML page) keeps the
 * status, with code "http_<status>" and the start of the body as message.
 */
export function apiError(operation, response, body) {
    const status = response.status;
    const Class = byStatus[status] ?? (status >= 500 ? ServerError : SynthosApiError);
    const ra = Number(response.headers.get("Retry-After"));
    const retryAfter = Number.isFinite(ra) && ra > 0 ? ra : undefined;
    const env = body?.error;
    if (env && typeof env.code === "string") {
        return new Class(operation, status, env.code, String(env.message ?? ""), env.details ?? {}, retryAfter);
    }
    const text = typeof body === "string" ? body : body === undefined ? "" : JSON.stringify(body);
    return new Class(operation, status, `http_${status}`, text.slice(0, 200) || response.statusText, {}, retryAfter);
}
/** JobFailedError: waitForJob saw the job end failed or cancelled. */
export class JobFailedError extends SynthosError {
    /** the job's id */
    jobId;
    /** the job's final state: failed or cancelled */
    state;
    /** the job's error_code (invalid_argument, failed_precondition, resource_exhausted, …), or "canceled" */
    code;
    /** the job as last read */
    job;
    constructor(job) {
        super(`job ${job.id} ended ${job.state}${job.error ? `: ${job.error}` : ""}`);
        this.jobId = job.id;
        this.state = job.state;
        this.code = job.error_code ?? (job.state === "cancelled" ? "canceled" : "unknown");
        this.job = job;
    }
}
/** TimeoutError: waitForJob's deadline passed before the job finished. */
export class WaitTimeoutError extends SynthosError {
    jobId;
    state;
    constructor(jobId, state, ms) {
        super(`job ${jobId} is still ${state} after ${ms} ms`);
        this.jobId = jobId;
        this.state = state;
    }
}
