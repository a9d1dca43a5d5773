/**
 * Context tokens for the contenders that have no identity layer (bare @apollo/gateway, bare Hive
 * Gateway, the fan-out client). The reference subgraphs refuse any call without a context token the
 * gateway signed, so these contenders carry one too, but sign it once per workload and subgraph when
 * they start and re-sign it every 30 s (tokens live 60 s): they pay no per-request signing, which
 * is part of what the benchmark attributes to our gateway. Such a token is bound to no request and
 * reused, so the benchmark's subgraphs run with SUBGRAPH_ACCEPT_UNBOUND_CONTEXT_TOKENS (never in
 * production); our gateway still signs one bound token per call, and pays for it.
 */
import { readFileSync } from 'node:fs';
import { signGatewayContext } from '../src/identity/gatewayContextToken.js';
import { readAgencyRegistry, readGatewaySigningKey } from '../src/identity/index.js';
import { REFERENCE_AGENCY_IDS } from '../src/agencies/referenceAgencies.js';
import { CATEGORIES, type Purpose } from '../src/policy/purposes.js';

/** What the orchestrator hands a contender process (BENCH_CASES_FILE): one case per workload. */
export interface BenchCase {
  readonly workload: string;
  readonly agency: string;
  readonly purpose: Purpose;
  readonly subjects: readonly string[];
}

/** Every agency subgraph the bench starts gets a token per workload. */
export const AGENCY_SUBGRAPH_NAMES = REFERENCE_AGENCY_IDS;
const REFRESH_MS = 30_000;

export interface StaticContextTokens {
  /** `Bearer …` for the workload's case towards one subgraph; undefined for an unknown workload. */
  authorization(workload: string | undefined, subgraph: string): string | undefined;
  close(): void;
}

export function readBenchCases(file = process.env['BENCH_CASES_FILE']): BenchCase[] {
  if (!file) throw new Error('BENCH_CASES_FILE is not set');
  return JSON.parse(readFileSync(file, 'utf8')) as BenchCase[];
}

export async function staticContextTokens(signingKeyPath: string, cases: readonly BenchCase[]): Promise<StaticContextTokens> {
  const key = await readGatewaySigningKey(signingKeyPath);
  const registry = readAgencyRegistry();
  let tokens = new Map<string, string>();
  const sign = () => {
    const next = new Map<string, string>();
    for (const c of cases) {
      const agency = registry.byId(c.agency);
      if (!agency) throw new Error(`unknown agency ${c.agency}`);
      for (const subgraph of AGENCY_SUBGRAPH_NAMES) {
        const token = signGatewayContext(
          key.privateKey,
          subgraph,
          {
            caller: {
              agency: { id: agency.id, name: agency.name, organisationNumber: agency.organisationNumber },
              official: 'bench-official',
              purpose: c.purpose,
              caseId: `BENCH-${c.workload}`,
              subjects: c.subjects,
              requestId: 'bench-static',
              certificateThumbprint: 'bench-static',
              tokenId: 'bench-static',
            },
            protectedIdentityAccess: false,
            // Every category: the subgraphs' own agreement check still applies to what these engines fetch.
            categories: new Set(CATEGORIES),
          },
          null,
        );
        next.set(`${c.workload}/${subgraph}`, `Bearer ${token}`);
      }
    }
    tokens = next;
  };
  sign();
  const timer = setInterval(() => {
    try {
      sign();
    } catch (error) {
      console.error('context token refresh failed', error);
    }
  }, REFRESH_MS);
  timer.unref();
  return {
    authorization: (workload, subgraph) => tokens.get(`${workload}/${subgraph}`),
    close: () => clearInterval(timer),
  };
}
