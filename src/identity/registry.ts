import { z } from 'zod';
import { DEV_AGENCY_REGISTRY_PATH } from '../config/paths.js';
import type { AgencyIdentity } from './callerContext.js';
import { hasOrganisationNumberForm, hasValidOrganisationNumberCheckDigit } from './organisationNumber.js';
import { duplicateProblems, expected, readRegistryJson, RegistryFileError, schemaProblems } from './registryFile.js';
import { WatchedFile, type WatchedFileOptions } from './watchedFile.js';

/**
 * The agency registry: which organisations may connect, in which roles, and whether they are
 * currently allowed to. A certificate proves an organisation number; only the registry turns
 * that number into an agency of the federation.
 */

/**
 * CLIENT reads, DATA_OWNER serves a subgraph, PRIVACY_OFFICER and SUPERVISOR may audit the
 * access log (through their registered officials), OPERATOR runs the exchange (its registered
 * operators read /metrics).
 */
export const AGENCY_ROLES = ['CLIENT', 'DATA_OWNER', 'PRIVACY_OFFICER', 'SUPERVISOR', 'OPERATOR'] as const;
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

export { DEV_AGENCY_REGISTRY_PATH };

export class AgencyRegistryError extends RegistryFileError {
  constructor(problems: readonly string[]) {
    super(problems, 'agency registry');
    this.name = 'AgencyRegistryError';
  }
}

const agencySchema = z.strictObject({
  id: z.string({ error: expected('a string') }).regex(/^[a-z][a-z0-9-]{1,62}$/, 'expected a lower-case id of letters, digits and hyphens (e.g. "malmo-stad")'),
  organisationNumber: z
    .string({ error: expected('a string NNNNNN-NNNN') })
    .refine(hasOrganisationNumberForm, 'expected NNNNNN-NNNN')
    .refine((value) => !hasOrganisationNumberForm(value) || hasValidOrganisationNumberCheckDigit(value), 'the check digit (last digit) is wrong'),
  name: z
    .string({ error: expected('a string') })
    .trim()
    .min(1, 'must not be empty'),
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
  if (!result.success) throw new AgencyRegistryError(schemaProblems(result.error, source));
  const agencies = result.data.agencies.map((agency) => Object.freeze({ ...agency, roles: Object.freeze([...agency.roles]) }));
  const duplicates = duplicateProblems(agencies, ['id', 'organisationNumber'], 'agencies', source);
  if (duplicates.length > 0) throw new AgencyRegistryError(duplicates);
  return new StaticAgencyRegistry(agencies);
}

export function readAgencyRegistry(file: string = DEV_AGENCY_REGISTRY_PATH): AgencyRegistry {
  const { json, source } = readRegistryJson(file, (problems) => new AgencyRegistryError(problems));
  return parseAgencyRegistry(json, source);
}

export type AgencyRegistryHolderOptions = WatchedFileOptions<AgencyRegistry, AgencyRegistryError>;

export type ReloadResult = { readonly ok: true; readonly registry: AgencyRegistry } | { readonly ok: false; readonly error: AgencyRegistryError };

/**
 * The registry in force, replaceable while the gateway runs. A broken edit must not lock every
 * agency out, so an invalid file is reported and the last good registry stays in force.
 */
export class AgencyRegistryHolder implements AgencyRegistry {
  readonly #file: WatchedFile<AgencyRegistry, AgencyRegistryError>;

  /** Throws AgencyRegistryError when the file is invalid at start: there is no last good registry yet. */
  constructor(
    readonly file: string,
    options: AgencyRegistryHolderOptions = {},
  ) {
    this.#file = new WatchedFile(file, readAgencyRegistry, (error): error is AgencyRegistryError => error instanceof AgencyRegistryError, options);
  }

  get current(): AgencyRegistry {
    return this.#file.current;
  }

  get agencies(): readonly RegisteredAgency[] {
    return this.current.agencies;
  }

  byOrganisationNumber(organisationNumber: string): RegisteredAgency | undefined {
    return this.current.byOrganisationNumber(organisationNumber);
  }

  byId(id: string): RegisteredAgency | undefined {
    return this.current.byId(id);
  }

  reload(): ReloadResult {
    const result = this.#file.reload();
    return result.ok ? { ok: true, registry: result.value } : result;
  }

  close(): void {
    this.#file.close();
  }
}
