import { InvalidPersonnummerError, parsePersonnummer } from '../../src/personnummer/index.js';
import { GatewayError } from '../../src/errors/index.js';

/** What a Person resolves to in every agency subgraph: the key only; fields load from the store. */
export interface PersonRef {
  readonly personnummer: string;
}

/**
 * The entity reference in canonical form. Representations bypass the Personnummer scalar, so the
 * number is checked here: a subgraph called directly must still refuse a malformed one.
 */
export function personRefFrom(reference: { personnummer?: unknown }): PersonRef {
  try {
    return { personnummer: parsePersonnummer(reference.personnummer).canonical };
  } catch (error) {
    if (error instanceof InvalidPersonnummerError) {
      throw GatewayError.field('BAD_USER_INPUT', `Person representation: ${error.message}`, { problem: error.problem });
    }
    throw error;
  }
}
