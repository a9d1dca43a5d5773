import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { GatewayError } from '../errors/index.js';
import { verifyTlsClient, type AgencyRegistry, type ClientCertificateTrust, type RegisteredAgency } from '../identity/index.js';
import { isValidPersonnummer } from '../personnummer/index.js';
import type { AccessLogFilter } from '../audit/index.js';

/**
 * Who is reading the access log. The client certificate is the credential here: the console
 * runs in a browser, which cannot mint the certificate-bound request token partners use, and
 * the registry role (PRIVACY_OFFICER or SUPERVISOR) is what entitles an agency to audit at all.
 * The officer's name comes from the optional `x-official` header (pseudonymous, like partner
 * officials) and is only recorded, for the audit of the audit.
 */
export interface AuditCaller {
  readonly agency: RegisteredAgency;
  readonly role: 'PRIVACY_OFFICER' | 'SUPERVISOR';
  readonly official: string;
  /** From the optional `x-audit-case` header: the officer's own case (e.g. a complaint's number). */
  readonly caseId: string;
  readonly requestId: string;
}

const PSEUDONYM = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
export const UNNAMED_OFFICIAL = 'unnamed';
export const NO_CASE = 'none';

/** A personnummer here would end up in clear text in the log. */
export function checkPseudonym(name: string, value: string): string {
  if (!PSEUDONYM.test(value) || isValidPersonnummer(value) || /\d{6}[-+]?\d{4}/.test(value)) {
    throw new GatewayError('BAD_REQUEST', `${name} must be a pseudonymous id (letters, digits . _ : @ -, at most 128) and no personnummer.`, { argument: name });
  }
  return value;
}

function headerValue(request: IncomingMessage, name: string, fallback: string): string {
  const raw = request.headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return fallback;
  return checkPseudonym(name, value);
}

/** Form posts from the console cannot set headers: the official may come as a form field instead. */
export function withOfficial(caller: AuditCaller, official: string | undefined): AuditCaller {
  if (official === undefined || official === '' || caller.official !== UNNAMED_OFFICIAL) return caller;
  return { ...caller, official: checkPseudonym('official', official) };
}

export function authenticateAuditCaller(
  request: IncomingMessage,
  requestId: string,
  context: { readonly registry: AgencyRegistry; readonly trust: ClientCertificateTrust },
): AuditCaller {
  const socket = request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerX509Certificate !== 'function') {
    throw new GatewayError('CLIENT_CERTIFICATE_REQUIRED', 'The audit API accepts requests over mutual TLS only.');
  }
  const { agency } = verifyTlsClient(socket as TLSSocket, context);
  const role = agency.roles.includes('SUPERVISOR') ? 'SUPERVISOR' : agency.roles.includes('PRIVACY_OFFICER') ? 'PRIVACY_OFFICER' : null;
  if (!role) {
    throw new GatewayError('ROLE_NOT_ALLOWED', 'The access log is open to agencies with the PRIVACY_OFFICER or SUPERVISOR role only.', { agency: agency.id });
  }
  return { agency, role, official: headerValue(request, 'x-official', UNNAMED_OFFICIAL), caseId: headerValue(request, 'x-audit-case', NO_CASE), requestId };
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
