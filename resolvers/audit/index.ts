import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { REPO_ROOT } from '../../src/config/paths.js';
import type { AuditCaller } from '../../src/audit-api/auditCaller.js';
import { GatewayError } from '../../src/errors/index.js';
import type { AuditEntryView, AuditFilterInput, AuditService, LogVerificationView } from '../../src/audit-api/auditService.js';
import type { AgencyRegistry } from '../../src/identity/index.js';
import type { Vocabulary } from '../../src/audit-api/vocabulary.js';

/**
 * Resolvers of schema/audit.graphql: thin, over AuditService, which does the scoping, the
 * decryption and the audit-of-the-audit entry. Not part of the supergraph: the audit API is a
 * separate endpoint (/audit/graphql) for privacy officers and the supervisor.
 */

export interface AuditContext {
  readonly caller: AuditCaller;
  readonly service: AuditService;
  readonly registry: AgencyRegistry;
  readonly vocabulary: Vocabulary;
  /** Where the console shows times (AUDIT_ANOMALY_TIMEZONE). */
  readonly timeZone: string;
}

export const AUDIT_SDL_PATH = path.join(REPO_ROOT, 'schema', 'audit.graphql');

type Args<T> = T;
const agencyOf = (registry: AgencyRegistry, id: string, organisationNumber?: string) => {
  const agency = registry.byId(id);
  return { id, name: agency?.name ?? id, organisationNumber: agency?.organisationNumber ?? organisationNumber ?? '' };
};

/** `since` as the service takes it: chain → size; a chain given twice, or a size below 1, is refused. */
function sinceSizes(since: ReadonlyArray<{ chainId: string; size: number }>): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const { chainId, size } of since) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(chainId) || size < 1 || Object.hasOwn(sizes, chainId)) {
      throw new GatewayError('BAD_USER_INPUT', 'since lists each chain once, with a size of at least 1.', { argument: 'since' });
    }
    sizes[chainId] = size;
  }
  return sizes;
}

const SERIES = { PURPOSE: 'purpose', CLIENT_AGENCY: 'clientAgency', OWNING_AGENCY: 'owningAgency' } as const;

export function createAuditSchema(): GraphQLSchema {
  return makeExecutableSchema<AuditContext>({
    typeDefs: readFileSync(AUDIT_SDL_PATH, 'utf8'),
    resolvers: {
      SafeInt: GraphQLSafeInt,
      // Internal values are the log's own spellings, so filters pass through unchanged.
      EntryKind: { ACCESS: 'access', AUDIT_QUERY: 'audit-query' },
      Outcome: { RELEASED: 'released', WITHHELD: 'withheld', DENIED: 'denied' },
      Query: {
        me: (_: unknown, __: unknown, { caller }: AuditContext) => ({
          agency: caller.agency,
          role: caller.role,
          official: caller.official,
          officialName: caller.officialName,
          scope: caller.role === 'SUPERVISOR' ? ['*'] : [caller.agency.id],
        }),
        agencies: (_: unknown, __: unknown, { registry }: AuditContext) => registry.agencies,
        vocabulary: (_: unknown, __: unknown, { vocabulary, timeZone }: AuditContext) => ({ ...vocabulary, timeZone }),
        entries: (_: unknown, args: Args<{ filter?: AuditFilterInput | null; first: number; after?: string | null }>, { caller, service }: AuditContext) =>
          service.entries(caller, args.filter ?? {}, args.after ?? null, args.first),
        entry: (_: unknown, args: Args<{ id: string }>, { caller, service }: AuditContext) => service.entry(caller, args.id),
        counts: (_: unknown, args: Args<{ filter?: AuditFilterInput | null; by: string[] }>, { caller, service }: AuditContext) => service.counts(caller, args.filter ?? {}, args.by),
        dailyVolume: (_: unknown, args: Args<{ filter?: AuditFilterInput | null; series: keyof typeof SERIES }>, { caller, service }: AuditContext) =>
          service.dailyVolume(caller, args.filter ?? {}, SERIES[args.series]),
        verification: (_: unknown, __: unknown, { service }: AuditContext) => service.verification(),
        anomalies: (_: unknown, args: Args<{ from?: string | null; to?: string | null }>, { caller, service }: AuditContext) => service.anomalies(caller, args),
        citizenReport: (_: unknown, args: Args<{ personnummer: string; since?: ReadonlyArray<{ chainId: string; size: number }> | null }>, { caller, service }: AuditContext) =>
          service.citizenReport(caller, args.personnummer, args.since ? { since: sinceSizes(args.since) } : {}),
        confidentialityRules: (_: unknown, __: unknown, { caller, service }: AuditContext) => service.confidentialityRules(caller),
      },
      Verification: {
        // The trees of the same kept run as the hash chains; only the checkpoints and cosignatures are read per request.
        transparency: (verification: LogVerificationView, __: unknown, { service }: AuditContext) => service.transparency(verification),
      },
      AccessLogEntry: {
        clientAgency: (entry: AuditEntryView, _: unknown, { registry }: AuditContext) => agencyOf(registry, entry.clientAgencyId, entry.clientAgencyOrgNumber),
        processingRegisterRef: (entry: AuditEntryView) => ({ recordId: entry.processingRegisterRecordId, version: entry.processingRegisterVersion }),
      },
      AnomalyFlag: {
        clientAgency: (flag: { clientAgency: string }, _: unknown, { registry }: AuditContext) => agencyOf(registry, flag.clientAgency),
      },
      CitizenReportRead: {
        agency: (read: { agency: { id: string } }, _: unknown, { registry }: AuditContext) => agencyOf(registry, read.agency.id),
        owningAgency: (read: { owningAgency: { id: string } }, _: unknown, { registry }: AuditContext) => agencyOf(registry, read.owningAgency.id),
      },
      CitizenReportScope: {
        agency: (scope: { agency: { id: string } | null }, _: unknown, { registry }: AuditContext) => (scope.agency ? agencyOf(registry, scope.agency.id) : null),
      },
      CitizenReportSummary: {
        agency: (row: { agency: { id: string } }, _: unknown, { registry }: AuditContext) => agencyOf(registry, row.agency.id),
      },
    },
  });
}
