/** Mirrors `enum Purpose` in schema/common/personal.graphql; a test keeps the two equal. */
export const PURPOSES = ['CASE_HANDLING', 'PAYMENT_CONTROL', 'INFORMING_THE_INSURED', 'PLANNING_AND_FOLLOW_UP', 'STATISTICS', 'DUTY_TO_DISCLOSE'] as const;
export type Purpose = (typeof PURPOSES)[number];

/** Mirrors `enum PersonalDataCategory` in schema/common/personal.graphql. */
export const CATEGORIES = ['IDENTITY', 'ADDRESS_CONTACT', 'FAMILY', 'INCOME', 'BENEFITS', 'HEALTH_RELATED', 'DEBT', 'EDUCATION', 'EMPLOYMENT'] as const;
export type PersonalDataCategory = (typeof CATEGORIES)[number];

export function isPurpose(value: unknown): value is Purpose {
  return typeof value === 'string' && (PURPOSES as readonly string[]).includes(value);
}

export function isCategory(value: unknown): value is PersonalDataCategory {
  return typeof value === 'string' && (CATEGORIES as readonly string[]).includes(value);
}
