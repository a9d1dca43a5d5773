import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/index.js';
import { verifyOfficerToken, type IdentifiedOfficial, type OfficialRole, type RegisteredAgency, type ReplayCache } from '../identity/index.js';
import { isValidPersonnummer } from '../personnummer/index.js';
import type { AccessLogFilter } from '../audit/index.js';

/**
 * Who is reading the access log: an official proven by their personal certificate, found in the
 * officials registry, acting in a role their officer token names and both registries grant
 * (PRIVACY_OFFICER or SUPERVISOR). The agency's system certificate proves only the agency, and
 * any of its partner systems holds that, so it opens nothing here.
 */
export interface AuditCaller {
  readonly agency: RegisteredAgency;
  readonly role: AuditRole;
  /** The verified official's pseudonymous id from the officials registry: recorded in the audit of the audit. */
  readonly official: string;
  /** Shown to the official in the console; never logged. */
  readonly officialName: string;
  /** The officer's own case (e.g. a complaint's number), from the token or `x-audit-case`; else `none`. */
  readonly caseId: string;
  readonly requestId: string;
}

export const AUDIT_ROLES = ['PRIVACY_OFFICER', 'SUPERVISOR'] as const;
export type AuditRole = (typeof AUDIT_ROLES)[number];

const PSEUDONYM = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
export const NO_CASE = 'none';

/** A personnummer here would end up in clear text in the log. */
export function checkPseudonym(name: string, value: string): string {
  if (!PSEUDONYM.test(value) || isValidPersonnummer(value) || /\d{6}[-+]?\d{4}/.test(value)) {
    throw new GatewayError('BAD_REQUEST', `${name} must be a pseudonymous id (letters, digits . _ : @ -, at most 128) and no personnummer.`, { argument: name });
  }
  return value;
}

export function isAuditRole(role: OfficialRole): role is AuditRole {
  return (AUDIT_ROLES as readonly string[]).includes(role);
}

export interface AuditTokenCheck {
  readonly sessionKey: KeyObject;
  readonly audience: string;
  readonly maxSessionSeconds: number;
  readonly replayCache: ReplayCache;
  readonly now?: () => Date;
}

/**
 * The officer token (from `Authorization: Bearer`, or the `token` field of a form the console
 * posts into a new tab) checked against the official the certificate named.
 */
export async function authenticateAuditCaller(
  request: IncomingMessage,
  requestId: string,
  identified: IdentifiedOfficial,
  token: string | undefined,
  check: AuditTokenCheck,
  formCase?: string,
): Promise<AuditCaller> {
  const verified = await verifyOfficerToken(token, {
    client: identified.client,
    official: identified.official,
    sessionKey: check.sessionKey,
    audience: check.audience,
    maxSessionSeconds: check.maxSessionSeconds,
    replayCache: check.replayCache,
    ...(check.now ? { now: check.now() } : {}),
  });
  if (!isAuditRole(verified.role)) {
    throw new GatewayError('ROLE_NOT_ALLOWED', 'The access log is open to privacy officers and the supervisory authority only.', { agency: identified.client.agency.id, role: verified.role });
  }
  const header = request.headers['x-audit-case'];
  const headerCase = Array.isArray(header) ? header[0] : header;
  const caseId = verified.caseId ?? (headerCase || formCase || undefined);
  return {
    agency: identified.client.agency,
    role: verified.role,
    official: identified.official.id,
    officialName: identified.official.name,
    caseId: caseId === undefined ? NO_CASE : checkPseudonym('case', caseId),
    requestId,
  };
}

/**
 * A privacy officer sees the entries where its agency is the client or the owner of the data,
 * and only partner reads: the audit of the audit (kind `audit-query`) is the supervisor's.
 * A supervisor sees everything. Applied to every query, as an AND with the caller's filter.
 */
export function scopedFilter(caller: AuditCaller, filter: AccessLogFilter): AccessLogFilter {
  if (caller.role === 'SUPERVISOR') return filter;
  if (filter.kind !== undefined && filter.kind !== 'access') {
    throw new GatewayError('ROLE_NOT_ALLOWED', 'Audit-query entries are visible to the supervisor only.', { agency: caller.agency.id, kind: filter.kind });
  }
  return { ...filter, kind: 'access', involvingAgency: caller.agency.id };
}

/** Whether one stored entry is in the caller's scope (for lookups by id). */
export function inScope(caller: AuditCaller, entry: { readonly kind: string; readonly clientAgencyId: string; readonly owningAgency: string }): boolean {
  if (caller.role === 'SUPERVISOR') return true;
  return entry.kind === 'access' && (entry.clientAgencyId === caller.agency.id || entry.owningAgency === caller.agency.id);
}
