import { accessLogEntries } from '../audit/accessLogEntries.js';
import type { ReadResult } from '../audit/collectAccessedFields.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import { GatewayError } from '../errors/index.js';
import type { ExecutedOperation, ExecutionResult, ReleasedResponse } from './stages.js';

/**
 * Stage 6: the response is read once (graphql-js's field collection, src/audit/collectAccessedFields.ts):
 * an entry for every personal value, the subject markers removed, a value whose subject cannot be
 * told withheld. It is released only once its entries are committed; if the commit fails or times
 * out, the whole response is replaced, as data released without its entries would break the
 * audit guarantee.
 */
export async function releaseResponse(executed: ExecutedOperation, log: AccessLogSink): Promise<ReleasedResponse> {
  const { checked, result } = executed;
  const { operation } = checked;
  let read: ReadResult;
  try {
    read = operation.analysis.reader().read({ data: result.data, errors: result.errors, caseSubjects: operation.caller.subjects });
  } catch {
    return failClosed(new GatewayError('INTERNAL_SERVER_ERROR', 'Internal server error.'));
  }
  const released: ReleasedResponse = { kind: 'released', result: read.errors.length > 0 ? { ...result, errors: [...(result.errors ?? []), ...read.errors] } : result };
  if (read.accessed.length === 0) return released;
  const entries = accessLogEntries(operation.caller, operation, { kind: 'accessed', accessed: read.accessed, basisOf: (coordinate) => checked.legalBases.get(coordinate) });
  try {
    await log.record(entries);
  } catch (error) {
    return failClosed(error instanceof GatewayError ? error : new GatewayError('ACCESS_LOG_UNAVAILABLE', 'The access log is unavailable; no personal data is released.'));
  }
  return released;
}

/** A response to no checked operation (a refusal, a request error): only an operation that passed the checks releases data. */
export function releaseUnchecked(result: ExecutionResult): ReleasedResponse {
  return result.data != null ? failClosed(new GatewayError('INTERNAL_SERVER_ERROR', 'Internal server error.')) : { kind: 'released', result };
}

function failClosed(error: GatewayError): ReleasedResponse {
  return { kind: 'failed-closed', error };
}
