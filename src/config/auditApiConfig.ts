import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, envField, parseEnv } from './parseEnv.js';
import { DEFAULT_SUPERGRAPH_PATH, REPO_ROOT, resolveFromRoot } from './paths.js';
import { PURPOSES } from '../policy/purposes.js';

/** Thresholds of the anomaly flags; see docs/audit.md for what each one means. */
export interface AnomalyThresholds {
  /** Distinct subjects an official tried to read outside the case's subjects (SUBJECT_NOT_IN_CASE). */
  readonly outsideCaseSubjects: number;
  /** Distinct subjects read by one official in one case. */
  readonly subjectsPerCase: number;
  /** Entries by one official concerning persons with protected identity. */
  readonly protectedIdentityReads: number;
  /** A day's entries at least this many times the official's median day... */
  readonly burstFactor: number;
  /** ...and at least this many entries... */
  readonly burstMinEntries: number;
  /** ...measured against at least this many earlier active days. */
  readonly burstBaselineDays: number;
  /** Local working hours [start, end): reads outside them are flagged. */
  readonly workingHours: { readonly start: number; readonly end: number };
  /** Entries of one official outside working hours before a flag is raised. */
  readonly offHoursEntries: number;
  readonly timeZone: string;
  /** Window looked at when the query gives no time range. */
  readonly windowDays: number;
  /** Most entries read for one evaluation; beyond it the result says it is partial. */
  readonly maxEntries: number;
}

export interface ConfidentialityRule {
  readonly id: string;
  readonly purpose?: string;
  readonly clientAgency?: string;
  /** Regular expression over the case id. */
  readonly casePattern?: string;
  /** ISO date: entries matching the rule are held back from citizen reports before this day. */
  readonly holdUntil: string;
  readonly reason: string;
}

export interface AuditApiConfig {
  readonly confidentialityPath: string;
  readonly confidentialityRules: readonly ConfidentialityRule[];
  readonly anomalies: AnomalyThresholds;
  /** For the personal-data category of each field in the citizen report. */
  readonly supergraphPath: string;
  readonly consoleDir: string;
  /** Lifetime of the officer sessions the console opens (POST /audit/session); it renews them before they end. */
  readonly sessionSeconds: number;
  /** AUDIT_VERIFY_MAX_AGE_MS: how old the console badge's full tree verification may be before a request starts a new one. */
  readonly verifyMaxAgeMs: number;
}

export const DEV_CONFIDENTIALITY_PATH = path.join(REPO_ROOT, 'src', 'config', 'dev', 'confidentiality.json');
export const DEFAULT_CONSOLE_DIR = path.join(REPO_ROOT, 'src', 'audit-console');

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

const ruleSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 characters A-Z a-z 0-9 . _ -'),
    purpose: z.enum(PURPOSES, { error: `expected one of ${PURPOSES.join(', ')}` }).optional(),
    clientAgency: z.string().min(1).optional(),
    casePattern: z
      .string()
      .min(1)
      .refine((value) => {
        try {
          new RegExp(value);
          return true;
        } catch {
          return false;
        }
      }, 'expected a valid regular expression')
      .optional(),
    holdUntil: z
      .string()
      .regex(ISO_DATE, 'expected an ISO date YYYY-MM-DD')
      .refine((v) => !Number.isNaN(Date.parse(v)), 'expected a real date'),
    reason: z.string().trim().min(1, 'must not be empty'),
  })
  // A rule with no condition would hold back everything, which is never what a confidentiality decision means.
  .refine((rule) => rule.purpose !== undefined || rule.clientAgency !== undefined || rule.casePattern !== undefined, 'needs at least one of purpose, clientAgency, casePattern');

const rulesFile = z.strictObject({ rules: z.array(ruleSchema) });

/** Reads the confidentiality rules; every problem names the variable, the file and the JSON member. */
export function loadConfidentialityRules(file: string, variable = 'AUDIT_CONFIDENTIALITY_PATH'): ConfidentialityRule[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([`${variable}: ${file}: ${code ? `cannot be read (${code})` : 'is not valid JSON'}`]);
  }
  const parsed = rulesFile.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${variable}: ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  const ids = new Set<string>();
  for (const rule of parsed.data.rules) {
    if (ids.has(rule.id)) throw new ConfigError([`${variable}: ${file}: rule id ${rule.id} appears twice`]);
    ids.add(rule.id);
  }
  return parsed.data.rules.map((rule) => Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined)) as unknown as ConfidentialityRule);
}

const positiveNumber = (fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((v) => Number(v))
    .pipe(z.number({ error: 'expected a number' }).positive('expected a number above 0'));

function validTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Reads and validates the audit API's environment. A bad value fails start-up naming the variable. */
export function loadAuditApiConfig(env: NodeJS.ProcessEnv = process.env): AuditApiConfig {
  const raw = parseEnv(
    {
      AUDIT_CONFIDENTIALITY_PATH: envField.string(DEV_CONFIDENTIALITY_PATH),
      SUPERGRAPH_PATH: envField.string(DEFAULT_SUPERGRAPH_PATH),
      AUDIT_CONSOLE_DIR: envField.string(DEFAULT_CONSOLE_DIR),
      // Short: a session outlives neither a removal from the registry (checked per request anyway) nor a lunch break by much.
      AUDIT_SESSION_SECONDS: envField.positiveInt(600).refine((seconds) => seconds >= 60 && seconds <= 3600, 'expected 60..3600 seconds'),
      // A full verification reads every record: often enough that the badge means something, rarely enough that reloads cannot keep the database busy.
      AUDIT_VERIFY_MAX_AGE_MS: envField.positiveInt(300_000).refine((ms) => ms >= 1000 && ms <= 86_400_000, 'expected 1000..86400000 ms (1 s to 24 h)'),
      AUDIT_ANOMALY_OUTSIDE_CASE_SUBJECTS: envField.positiveInt(3),
      AUDIT_ANOMALY_SUBJECTS_PER_CASE: envField.positiveInt(20),
      AUDIT_ANOMALY_PROTECTED_READS: envField.positiveInt(1),
      AUDIT_ANOMALY_BURST_FACTOR: positiveNumber(5),
      AUDIT_ANOMALY_BURST_MIN_ENTRIES: envField.positiveInt(50),
      AUDIT_ANOMALY_BURST_BASELINE_DAYS: envField.positiveInt(3),
      AUDIT_ANOMALY_WORKING_HOURS: z
        .string()
        .regex(/^([01]?\d|2[0-4])-([01]?\d|2[0-4])$/, 'expected START-END in whole hours, e.g. 07-19')
        .default('07-19'),
      AUDIT_ANOMALY_OFF_HOURS_ENTRIES: envField.positiveInt(1),
      AUDIT_ANOMALY_TIMEZONE: z.string().refine(validTimeZone, 'expected an IANA time zone such as Europe/Stockholm').default('Europe/Stockholm'),
      AUDIT_ANOMALY_WINDOW_DAYS: envField.positiveInt(30),
      AUDIT_ANOMALY_MAX_ENTRIES: envField.positiveInt(200_000),
    },
    env,
  );
  const [start, end] = raw.AUDIT_ANOMALY_WORKING_HOURS.split('-').map(Number) as [number, number];
  if (start >= end) throw new ConfigError([`AUDIT_ANOMALY_WORKING_HOURS: the start must be before the end (got ${raw.AUDIT_ANOMALY_WORKING_HOURS})`]);
  const confidentialityPath = resolveFromRoot(raw.AUDIT_CONFIDENTIALITY_PATH);
  return {
    confidentialityPath,
    confidentialityRules: loadConfidentialityRules(confidentialityPath),
    supergraphPath: resolveFromRoot(raw.SUPERGRAPH_PATH),
    consoleDir: resolveFromRoot(raw.AUDIT_CONSOLE_DIR),
    sessionSeconds: raw.AUDIT_SESSION_SECONDS,
    verifyMaxAgeMs: raw.AUDIT_VERIFY_MAX_AGE_MS,
    anomalies: {
      outsideCaseSubjects: raw.AUDIT_ANOMALY_OUTSIDE_CASE_SUBJECTS,
      subjectsPerCase: raw.AUDIT_ANOMALY_SUBJECTS_PER_CASE,
      protectedIdentityReads: raw.AUDIT_ANOMALY_PROTECTED_READS,
      burstFactor: raw.AUDIT_ANOMALY_BURST_FACTOR,
      burstMinEntries: raw.AUDIT_ANOMALY_BURST_MIN_ENTRIES,
      burstBaselineDays: raw.AUDIT_ANOMALY_BURST_BASELINE_DAYS,
      workingHours: { start, end },
      offHoursEntries: raw.AUDIT_ANOMALY_OFF_HOURS_ENTRIES,
      timeZone: raw.AUDIT_ANOMALY_TIMEZONE,
      windowDays: raw.AUDIT_ANOMALY_WINDOW_DAYS,
      maxEntries: raw.AUDIT_ANOMALY_MAX_ENTRIES,
    },
  };
}
