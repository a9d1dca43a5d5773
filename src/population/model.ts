/**
 * The records the generator produces, one interface per stored row. Names follow the agency SDLs;
 * amounts are whole öre, dates ISO strings.
 */

/** Bumped whenever the same seed would give different data, so stale data directories are regenerated. */
export const GENERATOR_VERSION = '1';

/** The registers are a snapshot taken at the end of this day; nothing is dated later except planned period ends. */
export const REFERENCE_DATE = '2024-12-31';
/** Income years, benefit and payment history cover these years. */
export const FIRST_DATA_YEAR = 2021;
export const LAST_DATA_YEAR = 2024;
export const DATA_WINDOW_START = `${FIRST_DATA_YEAR}-01-01`;

export type Sex = 'FEMALE' | 'MALE';
export type IdentityNumberKind = 'PERSONNUMMER' | 'SAMORDNINGSNUMMER';
export type ProtectedIdentity = 'NONE' | 'SEKRETESSMARKERING' | 'SKYDDAD_FOLKBOKFORING';
export type CivilStatus = 'UNMARRIED' | 'MARRIED' | 'REGISTERED_PARTNER' | 'DIVORCED' | 'WIDOWED';
export type BenefitType = 'PARENTAL_BENEFIT' | 'HOUSING_ALLOWANCE' | 'CHILD_ALLOWANCE';
export type DecisionOutcome = 'GRANTED' | 'REJECTED';
export type AmountUnit = 'PER_DAY' | 'PER_MONTH';
export type StudyLevel = 'UPPER_SECONDARY' | 'HIGHER_EDUCATION' | 'ADULT_EDUCATION';
export type JobSeekerStatus = 'OPENLY_UNEMPLOYED' | 'IN_PROGRAMME' | 'PART_TIME_UNEMPLOYED' | 'DEREGISTERED';
export type LabourMarketProgramme = 'JOB_AND_DEVELOPMENT_GUARANTEE' | 'JOB_GUARANTEE_FOR_YOUTH' | 'PREPARATORY_EDUCATION' | 'ESTABLISHMENT_PROGRAMME';
export type ActivitySupportKind = 'ACTIVITY_SUPPORT' | 'DEVELOPMENT_ALLOWANCE' | 'ESTABLISHMENT_ALLOWANCE';

export interface HouseholdRecord {
  readonly id: number;
  readonly careOf: string | null;
  readonly street: string;
  readonly postalCode: string;
  readonly city: string;
  readonly municipalityCode: string;
}

export interface PersonRecord {
  readonly personnummer: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly dateOfBirth: string;
  readonly sex: Sex;
  readonly identityNumberKind: IdentityNumberKind;
  readonly protectedIdentity: ProtectedIdentity;
  readonly civilStatus: CivilStatus;
  readonly householdId: number;
}

export interface TaxedIncomeRecord {
  readonly personnummer: string;
  readonly year: number;
  readonly employmentIncome: number;
  readonly businessIncome: number;
  readonly capitalIncome: number;
  readonly earnedIncome: number;
  readonly finalTax: number;
}

export interface BenefitDecisionRecord {
  readonly id: number;
  readonly personnummer: string;
  readonly benefit: BenefitType;
  readonly outcome: DecisionOutcome;
  readonly decidedOn: string;
  readonly periodStart: string;
  readonly periodEnd: string | null;
  readonly amount: number;
  readonly unit: AmountUnit;
}

export interface BenefitPaymentRecord {
  readonly id: number;
  readonly decisionId: number;
  readonly personnummer: string;
  readonly benefit: BenefitType;
  readonly paidOn: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly amount: number;
}

export interface SicknessDecisionRecord {
  readonly id: number;
  readonly personnummer: string;
  readonly outcome: DecisionOutcome;
  readonly decidedOn: string;
  readonly periodStart: string;
  readonly periodEnd: string | null;
  readonly extentPercent: 25 | 50 | 75 | 100;
  readonly dailyAmount: number;
}

export interface SicknessPaymentRecord {
  readonly id: number;
  readonly decisionId: number;
  readonly personnummer: string;
  readonly paidOn: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly amount: number;
}

export interface StudentAidPeriodRecord {
  readonly id: number;
  readonly personnummer: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly studyLevel: StudyLevel;
  readonly studyPacePercent: 50 | 75 | 100;
  readonly institution: string;
  readonly grant: number;
  readonly loan: number;
}

export interface StudentLoanAccountRecord {
  readonly personnummer: string;
  readonly balance: number;
  readonly asOf: string;
  readonly annualRepayment: number;
  readonly inArrears: boolean;
}

export interface JobSeekerRegistrationRecord {
  readonly id: number;
  readonly personnummer: string;
  readonly status: JobSeekerStatus;
  readonly registeredOn: string;
  readonly deregisteredOn: string | null;
  readonly officeCode: string;
  readonly programme: LabourMarketProgramme | null;
}

export interface ActivitySupportPaymentRecord {
  readonly id: number;
  readonly personnummer: string;
  readonly kind: ActivitySupportKind;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly paidOn: string;
  readonly days: number;
  readonly dailyAmount: number;
  readonly amount: number;
}

/** Everything generated for one household: the unit the generator streams and the writer stores. */
export interface GeneratedHousehold {
  readonly household: HouseholdRecord;
  readonly persons: PersonRecord[];
  readonly taxedIncome: TaxedIncomeRecord[];
  readonly benefitDecisions: BenefitDecisionRecord[];
  readonly benefitPayments: BenefitPaymentRecord[];
  readonly sicknessDecisions: SicknessDecisionRecord[];
  readonly sicknessPayments: SicknessPaymentRecord[];
  readonly studentAidPeriods: StudentAidPeriodRecord[];
  readonly studentLoanAccounts: StudentLoanAccountRecord[];
  readonly jobSeekerRegistrations: JobSeekerRegistrationRecord[];
  readonly activitySupportPayments: ActivitySupportPaymentRecord[];
}

/** Kronor to öre, keeping amounts integral. */
export function ore(kronor: number): number {
  return Math.round(kronor) * 100;
}
