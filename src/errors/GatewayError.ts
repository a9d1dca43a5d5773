import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { GatewayErrorCode } from './codes.js';
import { httpStatusOf } from './codes.js';

/** Details an error may carry. Names of fields, purposes and agencies only: never a personal value. */
export type GatewayErrorDetails = Record<string, string | number | boolean | readonly string[] | undefined>;

/**
 * The one error class of the gateway. `extensions.code` is the stable contract;
 * `extensions.http.status` lets the transport pick the status without parsing messages.
 */
export class GatewayError extends GraphQLError {
  readonly code: GatewayErrorCode;

  constructor(
    code: GatewayErrorCode,
    message: string,
    details: GatewayErrorDetails = {},
    options: {
      path?: ReadonlyArray<string | number>;
      cause?: unknown;
      fieldLevel?: boolean;
      /** Response headers that belong to the refusal (Retry-After of a 429); a Map, as Apollo Server iterates them. */
      httpHeaders?: ReadonlyMap<string, string>;
    } = {},
  ) {
    const extensions: Record<string, unknown> = { code };
    for (const [key, value] of Object.entries(details)) if (value !== undefined) extensions[key] = value;
    // A field-level error (one field withheld, the rest of the response fine) must not set the
    // HTTP status: Apollo Server would apply it to the whole response.
    if (!options.fieldLevel) extensions['http'] = { status: httpStatusOf(code), ...(options.httpHeaders ? { headers: new Map(options.httpHeaders) } : {}) };
    super(message, {
      extensions,
      ...(options.path ? { path: options.path } : {}),
      ...(options.cause !== undefined ? { originalError: options.cause instanceof Error ? options.cause : undefined } : {}),
    });
    this.name = 'GatewayError';
    this.code = code;
  }

  /** An error for one field of an otherwise successful response (withheld data, bad argument). */
  static field(code: GatewayErrorCode, message: string, details: GatewayErrorDetails = {}): GatewayError {
    return new GatewayError(code, message, details, { fieldLevel: true });
  }

  get httpStatus(): number {
    return httpStatusOf(this.code);
  }

  /** Headers the transport sends with this error's response. */
  get httpHeaders(): ReadonlyMap<string, string> {
    const headers = (this.extensions['http'] as { headers?: unknown } | undefined)?.headers;
    return headers instanceof Map ? (headers as ReadonlyMap<string, string>) : new Map();
  }

  /** The error as it appears in a response: like Apollo's formatting, the transport-only `http` extension is dropped. */
  toFormatted(): GraphQLFormattedError {
    const { http: _http, ...extensions } = this.extensions as Record<string, unknown>;
    return {
      message: this.message,
      ...(this.path ? { path: this.path } : {}),
      extensions,
    };
  }

  /**
   * The JSON body used where no GraphQL execution happens (401 before parsing, 404, 413, ...);
   * with the request id in `extensions`, where an executed response has it, for the caller to quote.
   */
  toResponseBody(requestId?: string): { errors: GraphQLFormattedError[]; extensions?: { requestId: string } } {
    return { errors: [this.toFormatted()], ...(requestId ? { extensions: { requestId } } : {}) };
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
