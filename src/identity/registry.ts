import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../config/paths.js';
import type { AgencyIdentity } from './callerContext.js';
import { hasOrganisationNumberForm, hasValidOrganisationNumberCheckDigit } from './organisationNumber.js';

/**
 * The agency registry: which organisations may connect, in which roles, and whether they are
 * currently allowed to. A certificate proves an organisation number; only the registry turns
 * that number into an agency of the federation.
 */

export const AGENCY_ROLES = ['CLIENT', 'DATA_OWNER', 'PRIVACY_OFFICER', 'SUPERVISOR'] as const;
export type AgencyRole = (typeof AGENCY_ROLES)[number];
export const AGENCY_STATUSES = ['ACTIVE', 'SUSPENDED'] as const;
export type AgencyStatus = (typeof AGENCY_STATUSES)[number];

export interface RegisteredAgency extends AgencyIdentity {
  readonly roles: readonly AgencyRole[];
  readonly status: AgencyStatus;
}

export interface AgencyRegistry {
  readonly agencies: readonly RegisteredAgency[];
  byOrganisationNumber(organisationNumber: string): RegisteredAgency | undefined;
  byId(id: string): RegisteredAgency | undefined;
}

export const DEV_AGENCY_REGISTRY_PATH = path.join(REPO_ROOT, 'src', 'config', 'dev', 'agencies.json');

export class AgencyRegistryError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? (problems[0] ?? '') : `Invalid agency registry:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgencyRegistryError';
  }
}

/** A missing field says so; a present but wrong one says what was expected. */
const expected = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `expected ${what}`);

const agencySchema = z.strictObject({
  id: z
    .string({ error: expected('a string') })
    .regex(/^[a-z][a-z0-9-]{1,62}$/, 'expected a lower-case id of letters, digits and hyphens (e.g. "malmo-stad")'),
  organisationNumber: z
    .string({ error: expected('a string NNNNNN-NNNN') })
    .refine(hasOrganisationNumberForm, 'expected NNNNNN-NNNN')
    .refine((value) => !hasOrganisationNumberForm(value) || hasValidOrganisationNumberCheckDigit(value), 'the check digit (last digit) is wrong'),
  name: z.string({ error: expected('a string') }).trim().min(1, 'must not be empty'),
  roles: z
    .array(z.enum(AGENCY_ROLES, { error: expected(`one of ${AGENCY_ROLES.join(', ')}`) }), { error: expected('an array of roles') })
    .min(1, 'an agency needs at least one role')
    .refine((roles) => new Set(roles).size === roles.length, 'lists a role twice'),
  status: z.enum(AGENCY_STATUSES, { error: expected(AGENCY_STATUSES.join(' or ')) }),
});

const registrySchema = z.strictObject(
  { agencies: z.array(agencySchema, { error: expected('an array of agencies') }) },
  { error: (issue) => (issue.code === 'invalid_type' ? 'expected an object with an "agencies" array' : undefined) },
);

function formatPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${String(segment)}` : String(segment)), '');
}

function duplicateProblems(agencies: readonly RegisteredAgency[], source: string): string[] {
  const problems: string[] = [];
  for (const field of ['id', 'organisationNumber'] as const) {
    const firstSeen = new Map<string, number>();
    agencies.forEach((agency, index) => {
      const earlier = firstSeen.get(agency[field]);
      if (earlier === undefined) firstSeen.set(agency[field], index);
      else problems.push(`${source}: agencies[${index}].${field}: duplicate of agencies[${earlier}].${field} "${agency[field]}"`);
    });
  }
  return problems;
}

class StaticAgencyRegistry implements AgencyRegistry {
  readonly #byOrganisationNumber: ReadonlyMap<string, RegisteredAgency>;
  readonly #byId: ReadonlyMap<string, RegisteredAgency>;

  constructor(readonly agencies: readonly RegisteredAgency[]) {
    this.#byOrganisationNumber = new Map(agencies.map((agency) => [agency.organisationNumber, agency]));
    this.#byId = new Map(agencies.map((agency) => [agency.id, agency]));
  }

  byOrganisationNumber(organisationNumber: string): RegisteredAgency | undefined {
    return this.#byOrganisationNumber.get(organisationNumber);
  }

  byId(id: string): RegisteredAgency | undefined {
    return this.#byId.get(id);
  }
}

/**
 * Validates registry JSON. Every problem names the source, the entry and the field, e.g.
 * `agencies.json: agencies[3].organisationNumber: expected NNNNNN-NNNN`, and all are reported at once.
 */
export function parseAgencyRegistry(value: unknown, source: string): AgencyRegistry {
  const result = registrySchema.safeParse(value);
  if (!result.success) {
    throw new AgencyRegistryError(
      result.error.issues.map((issue) => {
        const at = formatPath(issue.path);
        return `${source}: ${at ? `${at}: ` : ''}${issue.message}`;
      }),
    );
  }
  const agencies = result.data.agencies.map((agency) => Object.freeze({ ...agency, roles: Object.freeze([...agency.roles]) }));
  const duplicates = duplicateProblems(agencies, source);
  if (duplicates.length > 0) throw new AgencyRegistryError(duplicates);
  return new StaticAgencyRegistry(agencies);
}

function describe(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}

export function readAgencyRegistry(file: string = DEV_AGENCY_REGISTRY_PATH): AgencyRegistry {
  const source = describe(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AgencyRegistryError([`${source}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AgencyRegistryError([`${source}: not valid JSON (${(error as Error).message})`]);
  }
  return parseAgencyRegistry(json, source);
}

export interface AgencyRegistryHolderOptions {
  /** Reload when the file changes. Off by default; an explicit reload() always works. */
  readonly watch?: boolean;
  readonly onReload?: (registry: AgencyRegistry) => void;
  /** Called with the problems of a rejected reload; the previous registry stays in force. */
  readonly onError?: (error: AgencyRegistryError) => void;
}

export type ReloadResult = { readonly ok: true; readonly registry: AgencyRegistry } | { readonly ok: false; readonly error: AgencyRegistryError };

/**
 * The registry in force, replaceable while the gateway runs. A broken edit must not lock every
 * agency out, so an invalid file is reported and the last good registry stays in force.
 */
export class AgencyRegistryHolder implements AgencyRegistry {
  #current: AgencyRegistry;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;

  /** Throws AgencyRegistryError when the file is invalid at start: there is no last good registry yet. */
  constructor(
    readonly file: string,
    private readonly options: AgencyRegistryHolderOptions = {},
  ) {
    this.#current = readAgencyRegistry(file);
    if (options.watch) this.#watch();
  }

  get current(): AgencyRegistry {
    return this.#current;
  }

  get agencies(): readonly RegisteredAgency[] {
    return this.#current.agencies;
  }

  byOrganisationNumber(organisationNumber: string): RegisteredAgency | undefined {
    return this.#current.byOrganisationNumber(organisationNumber);
  }

  byId(id: string): RegisteredAgency | undefined {
    return this.#current.byId(id);
  }

  reload(): ReloadResult {
    try {
      this.#current = readAgencyRegistry(this.file);
      this.options.onReload?.(this.#current);
      return { ok: true, registry: this.#current };
    } catch (error) {
      if (!(error instanceof AgencyRegistryError)) throw error;
      this.options.onError?.(error);
      return { ok: false, error };
    }
  }

  close(): void {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #watch(): void {
    // The directory is watched, not the file: editors and config management replace the file by
    // renaming a new one over it, which a watch on the old inode would never see.
    const name = path.basename(this.file);
    this.#watcher = watch(path.dirname(this.file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.reload(), 50);
    });
  }
}
