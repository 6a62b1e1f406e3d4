/** ErrorBody is the API's error envelope. */
export interface ErrorBody {
    error: {
        code: string;
        message: string;
        details?: Record<string, unknown>;
    };
}
/** SynthosError is the root of every error this client throws. */
export declare class SynthosError extends Error {
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
/** SynthosApiError is an API answer with an error status. */
export declare class SynthosApiError extends SynthosError {
    /** the HTTP status */
    readonly status: number;
    /** the API's error code (e.g. invalid_request, not_found, upload_offset_mismatch) */
    readonly code: string;
    /** the API's details (e.g. field, row, column, limit_bytes), or {} */
    readonly details: Record<string, unknown>;
    /** the operation that failed, e.g. "POST /v1/jobs" */
    readonly operation: string;
    /** the Retry-After header in seconds, when the API sent one */
    readonly retryAfter?: number;
    constructor(operation: string, status: number, code: string, message: string, details: Record<string, unknown>, retryAfter?: number);
}
/** BadRequestError: 400, the request or the table is invalid (details.field, details.row, details.column). */
export declare class BadRequestError extends SynthosApiError {
}
/** AuthenticationError: 401, a missing, malformed, unknown or revoked API key. */
export declare class AuthenticationError extends SynthosApiError {
}
/** PaymentRequiredError: 402, the plan does not allow this. */
export declare class PaymentRequiredError extends SynthosApiError {
}
/** PermissionDeniedError: 403, the key lacks the scope. */
export declare class PermissionDeniedError extends SynthosApiError {
}
/** NotFoundError: 404, no such resource (code not_ready while an output is not there yet). */
export declare class NotFoundError extends SynthosApiError {
}
/** ConflictError: 409, e.g. a finished job, a dataset not ready, an upload offset mismatch, an exhausted privacy budget. */
export declare class ConflictError extends SynthosApiError {
}
/** PayloadTooLargeError: 413, details.limit_bytes names the limit. */
export declare class PayloadTooLargeError extends SynthosApiError {
}
/** UnsupportedMediaTypeError: 415. */
export declare class UnsupportedMediaTypeError extends SynthosApiError {
}
/** IdempotencyKeyReusedError: 422, an Idempotency-Key reused with a different request. */
export declare class IdempotencyKeyReusedError extends SynthosApiError {
}
/** QuotaExceededError: 429, a quota or rate limit (details.limit, details.resets_at). */
export declare class QuotaExceededError extends SynthosApiError {
}
/** ServerError: 5xx (503 unavailable carries retryAfter). */
export declare class ServerError extends SynthosApiError {
}
/**
 * apiError builds the typed error of an error answer from its status and
 * body. A body that is not the envelope (a proxy's HTML page) keeps the
 * status, with code "http_<status>" and the start of the body as message.
 */
export declare function apiError(operation: string, response: Response, body: unknown): SynthosApiError;
/** JobFailedError: waitForJob saw the job end failed or cancelled. */
export declare class JobFailedError extends SynthosError {
    /** the job's id */
    readonly jobId: string;
    /** the job's final state: failed or cancelled */
    readonly state: string;
    /** the job's error_code (invalid_argument, failed_precondition, resource_exhausted, …), or "canceled" */
    readonly code: string;
    /** the job as last read */
    readonly job: unknown;
    constructor(job: {
        id: string;
        state: string;
        error?: string;
        error_code?: string;
    });
}
/** TimeoutError: waitForJob's deadline passed before the job finished. */
export declare class WaitTimeoutError extends SynthosError {
    readonly jobId: string;
    readonly state: string;
    constructor(jobId: string, state: string, ms: number);
}
