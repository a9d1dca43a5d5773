import { z } from 'zod';
import { ConfigError } from '../config/parseEnv.js';
import { DEV_OFFICIAL_REGISTRY_PATH } from '../config/paths.js';
import { parseHsaId } from './hsaId.js';
import type { AgencyRegistry, RegisteredAgency } from './registry.js';
import { duplicateProblems, expected, readRegistryJson, RegistryFileError, schemaProblems } from './registryFile.js';
import { WatchedFile, type WatchedFileOptions } from './watchedFile.js';

/**
 * The officials registry: the people (and the one monitoring system) who may use the gateway's
 * own functions rather than exchange data. A partner agency's system certificate proves the
 * agency; reading the access log or the operational metrics needs an official's personal
 * certificate (tjänstelegitimation, see ./hsaId.ts), and only this registry turns its HSA-id
 * into an official with roles:
 *
 * - PRIVACY_OFFICER: the agency's data protection officer (dataskyddsombud, GDPR art. 37–39);
 * - SUPERVISOR: an inspector of the supervisory authority (IMY, GDPR art. 57–58);
 * - OPERATOR: runs the exchange; reads /metrics.
 *
 * A role counts only while the official's agency holds it in the agency registry too, so
 * withdrawing an agency's PRIVACY_OFFICER role there shuts out all its officers at once.
 */

export const OFFICIAL_ROLES = ['PRIVACY_OFFICER', 'SUPERVISOR', 'OPERATOR'] as const;
export type OfficialRole = (typeof OFFICIAL_ROLES)[number];

export interface RegisteredOfficial {
  /** Pseudonymous id recorded in the access log, e.g. `dso-skv-1`. */
  readonly id: string;
  /** Agency id in the agency registry: the employer. */
  readonly agency: string;
  /** The HSA-id in the official's personal certificate. */
  readonly hsaId: string;
  /** Shown to the official themselves in the console; never logged. */
  readonly name: string;
  readonly roles: readonly OfficialRole[];
}

export interface OfficialRegistry {
  readonly officials: readonly RegisteredOfficial[];
  byHsaId(hsaId: string): RegisteredOfficial | undefined;
  byId(id: string): RegisteredOfficial | undefined;
}

const officialSchema = z.strictObject({
  // Lower-case first letter: an id can never be a personnummer, which would end up in every audit entry.
  id: z.string({ error: expected('a string') }).regex(/^[a-z][a-z0-9._-]{1,63}$/, 'expected a pseudonymous lower-case id of letters, digits and . _ - (e.g. "dso-skv-1")'),
  agency: z.string({ error: expected('an agency id') }).min(1, 'must not be empty'),
  hsaId: z
    .string({ error: expected('a string') })
    .refine((value) => parseHsaId(value) !== undefined, 'expected an HSA-id: SE, the organisation number\'s ten digits, "-" and 1-31 letters or digits (e.g. "SE2021005448-D0A1")'),
  name: z
    .string({ error: expected('a string') })
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'at most 100 characters'),
  roles: z
    .array(z.enum(OFFICIAL_ROLES, { error: expected(`one of ${OFFICIAL_ROLES.join(', ')}`) }), { error: expected('an array of roles') })
    .min(1, 'an official needs at least one role')
    .refine((roles) => new Set(roles).size === roles.length, 'lists a role twice'),
});

const registrySchema = z.strictObject(
  { officials: z.array(officialSchema, { error: expected('an array of officials') }) },
  { error: (issue) => (issue.code === 'invalid_type' ? 'expected an object with an "officials" array' : undefined) },
);

/** The development registry: synthetic officials of the reference agencies. */
export { DEV_OFFICIAL_REGISTRY_PATH };

export class OfficialRegistryError extends RegistryFileError {
  constructor(problems: readonly string[]) {
    super(problems, 'officials registry');
    this.name = 'OfficialRegistryError';
  }
}

/** Why the agency registry does not back this official's entry: unknown agency, another employer's HSA-id, a role the agency lacks. */
function agencyProblems(official: RegisteredOfficial, index: number, agencies: AgencyRegistry, source: string): string[] {
  const at = `${source}: officials[${index}]`;
  const agency = agencies.byId(official.agency);
  if (!agency) return [`${at}.agency: "${official.agency}" is not in the agency registry`];
  const problems: string[] = [];
  if (parseHsaId(official.hsaId)?.organisationNumber !== agency.organisationNumber) {
    problems.push(`${at}.hsaId: names another organisation than ${agency.id} (${agency.organisationNumber})`);
  }
  official.roles.forEach((role, roleIndex) => {
    if (!agency.roles.includes(role)) problems.push(`${at}.roles[${roleIndex}]: agency ${agency.id} does not hold the role ${role} in the agency registry`);
  });
  return problems;
}

/** Validates the file's JSON, also against the agency registry; every problem is reported at once. */
export function parseOfficialRegistry(value: unknown, source: string, agencies: AgencyRegistry): OfficialRegistry {
  const result = registrySchema.safeParse(value);
  if (!result.success) throw new OfficialRegistryError(schemaProblems(result.error, source));
  const officials = result.data.officials.map((official) => Object.freeze({ ...official, roles: Object.freeze([...official.roles]) }));
  const problems = [...duplicateProblems(officials, ['id', 'hsaId'], 'officials', source), ...officials.flatMap((official, index) => agencyProblems(official, index, agencies, source))];
  if (problems.length > 0) throw new OfficialRegistryError(problems);
  const byHsaId = new Map(officials.map((official) => [official.hsaId, official]));
  const byId = new Map(officials.map((official) => [official.id, official]));
  return { officials, byHsaId: (hsaId) => byHsaId.get(hsaId), byId: (id) => byId.get(id) };
}

export function readOfficialRegistry(file: string, agencies: AgencyRegistry): OfficialRegistry {
  const { json, source } = readRegistryJson(file, (problems) => new OfficialRegistryError(problems));
  return parseOfficialRegistry(json, source, agencies);
}

/** The registry in force; like the agency registry, a broken edit is reported and the last good one stays. */
export class OfficialRegistryHolder implements OfficialRegistry {
  readonly #file: WatchedFile<OfficialRegistry, OfficialRegistryError>;

  /** Throws OfficialRegistryError when the file is invalid at start. */
  constructor(
    readonly file: string,
    agencies: AgencyRegistry,
    options: WatchedFileOptions<OfficialRegistry, OfficialRegistryError> = {},
  ) {
    this.#file = new WatchedFile(
      file,
      (name) => readOfficialRegistry(name, agencies),
      (error): error is OfficialRegistryError => error instanceof OfficialRegistryError,
      options,
    );
  }

  get officials(): readonly RegisteredOfficial[] {
    return this.#file.current.officials;
  }

  byHsaId(hsaId: string): RegisteredOfficial | undefined {
    return this.#file.current.byHsaId(hsaId);
  }

  byId(id: string): RegisteredOfficial | undefined {
    return this.#file.current.byId(id);
  }

  reload(): ReturnType<WatchedFile<OfficialRegistry, OfficialRegistryError>['reload']> {
    return this.#file.reload();
  }

  close(): void {
    this.#file.close();
  }
}

/** Opens the registry at start-up; an invalid file stops start-up naming the variable, the file and each entry. */
export function openOfficialRegistry(
  file: string,
  agencies: AgencyRegistry,
  options: WatchedFileOptions<OfficialRegistry, OfficialRegistryError> = {},
  variable = 'OFFICIAL_REGISTRY_PATH',
): OfficialRegistryHolder {
  try {
    return new OfficialRegistryHolder(file, agencies, options);
  } catch (error) {
    if (error instanceof OfficialRegistryError) throw new ConfigError(error.problems.map((problem) => `${variable}: ${problem}`));
    throw error;
  }
}

/**
 * Whether `official` may act in `role` for `agency` right now: registered in the role, employed
 * by this agency, and the agency (as the registry reads now) still holds the role.
 */
export function officialHoldsRole(official: RegisteredOfficial, agency: RegisteredAgency, role: OfficialRole): boolean {
  return official.agency === agency.id && official.roles.includes(role) && agency.roles.includes(role);
}
