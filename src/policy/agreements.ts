import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CATEGORIES, PURPOSES, type PersonalDataCategory, type Purpose } from './purposes.js';

/**
 * A disclosure agreement between a client agency and a data owner: which categories, for which
 * purposes, on which legal basis, recorded under which processing-register entry (GDPR Art. 30),
 * and for how long.
 */
export interface Agreement {
  readonly id: string;
  readonly client: string;
  readonly owner: string;
  readonly categories: ReadonlySet<PersonalDataCategory>;
  readonly purposes: ReadonlySet<Purpose>;
  /** Law and section, as text. */
  readonly legalBasis: string;
  readonly processingRegister: { readonly recordId: string; readonly version: number };
  /** Inclusive, ISO dates. */
  readonly validFrom: string;
  readonly validUntil: string;
  /** Whether address/contact data of persons with protected identity may be disclosed. */
  readonly protectedIdentityAccess: boolean;
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

const agreementSchema = z
  .object({
    id: z.string().min(1),
    client: z.string().min(1),
    owner: z.string().min(1),
    categories: z.array(z.enum(CATEGORIES)).min(1),
    purposes: z.array(z.enum(PURPOSES)).min(1),
    legalBasis: z.string().min(5, 'expected the law and section as text'),
    processingRegister: z.object({ recordId: z.string().min(1), version: z.number().int().positive() }),
    validFrom: isoDate,
    validUntil: isoDate,
    protectedIdentityAccess: z.boolean().default(false),
  })
  .strict()
  .refine((a) => a.validFrom <= a.validUntil, { message: 'validUntil is before validFrom', path: ['validUntil'] });

const fileSchema = z.object({ agreements: z.array(agreementSchema) }).strict();

export class AgreementsConfigError extends Error {
  override name = 'AgreementsConfigError';
}

/** Parses and validates agreements; `knownAgencies` catches a typo in an agency id at start-up. */
export function parseAgreements(json: unknown, source: string, knownAgencies?: ReadonlySet<string>): Agreement[] {
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new AgreementsConfigError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const ids = new Set<string>();
  return result.data.agreements.map((a, index) => {
    if (ids.has(a.id)) throw new AgreementsConfigError(`${source}: agreements[${index}].id: duplicate agreement id ${a.id}`);
    ids.add(a.id);
    for (const role of ['client', 'owner'] as const) {
      if (knownAgencies && !knownAgencies.has(a[role])) {
        throw new AgreementsConfigError(`${source}: agreements[${index}].${role}: ${a[role]} is not a registered agency`);
      }
    }
    return { ...a, categories: new Set(a.categories), purposes: new Set(a.purposes) };
  });
}

export function loadAgreements(path: string, knownAgencies?: ReadonlySet<string>): Agreement[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AgreementsConfigError(`${path}: ${(error as Error).message}`);
  }
  return parseAgreements(json, path, knownAgencies);
}

/** Whether the agreement lets `client` receive `category` data from `owner` for `purpose`, validity aside. */
export function covers(agreement: Agreement, disclosure: { readonly client: string; readonly owner: string; readonly category: PersonalDataCategory; readonly purpose: Purpose }): boolean {
  return agreement.client === disclosure.client && agreement.owner === disclosure.owner && agreement.categories.has(disclosure.category) && agreement.purposes.has(disclosure.purpose);
}

/** Whether the agreement is in force on `today` (ISO date). */
export function isInForce(agreement: Agreement, today: string): boolean {
  return agreement.validFrom <= today && today <= agreement.validUntil;
}

const DAY_MS = 86_400_000;

/**
 * Today's UTC date, as agreements are judged: the purpose check, every subgraph call's context and
 * every personal field a subgraph resolves ask for it, so it is formatted again only when the day
 * changes (or the clock is set back past midnight).
 */
export function utcDateClock(): () => string {
  let day = '';
  let dayStart = 0;
  return () => {
    const now = Date.now();
    if (now < dayStart || now >= dayStart + DAY_MS) {
      dayStart = Math.floor(now / DAY_MS) * DAY_MS;
      day = new Date(dayStart).toISOString().slice(0, 10);
    }
    return day;
  };
}
