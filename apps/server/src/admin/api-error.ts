/**
 * The admin API's one error table: every refusal is an ApiError with an HTTP status and a stable
 * code; the answer is `{"error":{"code":…,"message":…}}` (see docs/admin-api.openapi.json).
 */
export const API_ERRORS = {
  BAD_REQUEST: 400,
  MALFORMED_JSON: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.status = API_ERRORS[code];
  }
}

/** The body of an error answer. */
export function errorBody(code: ApiErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}
