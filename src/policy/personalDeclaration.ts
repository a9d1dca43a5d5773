import { Kind, type ConstDirectiveNode } from 'graphql';
import { CATEGORIES, isCategory, isPurpose, type PersonalDataCategory, type Purpose } from './purposes.js';

/**
 * A field's `@personal(category:, purposes:)` declaration, as its owning agency wrote it in its SDL
 * (schema/common/personal.graphql defines the directive). The gateway reads it from the
 * supergraph (personalFieldCatalogue.ts) and each subgraph from its own schema
 * (subgraph-kit/personalFieldGuard.ts), both through this one reader, so a declaration the gateway
 * would refuse is refused by the subgraph too, with the same error.
 */
export interface PersonalDeclaration {
  readonly category: PersonalDataCategory;
  readonly purposes: ReadonlySet<Purpose>;
}

export type MalformedPersonalDeclarationProblem = 'UNKNOWN_CATEGORY' | 'UNKNOWN_PURPOSE';

/** A declaration nothing downstream could honour: a category or purpose the exchange does not know. */
export class MalformedPersonalDeclarationError extends Error {
  constructor(
    readonly coordinate: string,
    readonly problem: MalformedPersonalDeclarationProblem,
    message: string,
  ) {
    super(`${coordinate}: ${message}`);
    this.name = 'MalformedPersonalDeclarationError';
  }
}

export const PERSONAL_DIRECTIVE = 'personal';

function argumentOf(directive: ConstDirectiveNode, name: string) {
  return directive.arguments?.find((a) => a.name.value === name)?.value;
}

/**
 * The declaration among a field's directives; undefined when the field has no `@personal`.
 * `coordinate` (`Type.field`) names the field in the error. A single purpose without brackets
 * counts as a list of one, as GraphQL's input coercion has it.
 */
export function readPersonalDeclaration(coordinate: string, directives: readonly ConstDirectiveNode[] | undefined): PersonalDeclaration | undefined {
  const directive = directives?.find((d) => d.name.value === PERSONAL_DIRECTIVE);
  if (!directive) return undefined;
  const category = argumentOf(directive, 'category');
  if (category?.kind !== Kind.ENUM || !isCategory(category.value)) {
    throw new MalformedPersonalDeclarationError(coordinate, 'UNKNOWN_CATEGORY', `@personal(category:) must be one of ${CATEGORIES.join(', ')}.`);
  }
  const value = argumentOf(directive, 'purposes');
  const items = value === undefined ? [] : value.kind === Kind.LIST ? value.values : [value];
  const purposes = new Set<Purpose>();
  for (const item of items) {
    const purpose = item.kind === Kind.ENUM ? item.value : undefined;
    if (!isPurpose(purpose)) {
      throw new MalformedPersonalDeclarationError(coordinate, 'UNKNOWN_PURPOSE', `@personal(purposes:) has an unknown purpose ${purpose ?? `(a ${item.kind} value)`}.`);
    }
    purposes.add(purpose);
  }
  return { category: category.value, purposes };
}
