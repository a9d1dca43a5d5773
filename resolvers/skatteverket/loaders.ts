import DataLoader from 'dataloader';
import type { SubgraphContext } from '../../src/subgraph-kit/types.js';
import type { RegisteredPerson, SkatteverketStore, TaxedIncomeYear } from './store.js';

/**
 * One DataLoader per field family, created per request. A batch function calls the store once,
 * so each level of a query costs one statement per family however many persons it touches.
 */
export interface SkatteverketLoaders {
  /** null: not in the population register. */
  readonly person: DataLoader<string, RegisteredPerson | null>;
  /** The other members of the household; null: not in the register. */
  readonly household: DataLoader<string, readonly string[] | null>;
  /** Newest first; null: not in the register. */
  readonly taxedIncome: DataLoader<string, readonly TaxedIncomeYear[] | null>;
}

export type SkatteverketContext = SubgraphContext<SkatteverketLoaders>;

export function createSkatteverketLoaders(store: SkatteverketStore): SkatteverketLoaders {
  return {
    person: new DataLoader(async (keys) => {
      const found = store.persons(keys);
      return keys.map((key) => found.get(key) ?? null);
    }),
    household: new DataLoader(async (keys) => {
      const found = store.householdMembers(keys);
      return keys.map((key) => found.get(key) ?? null);
    }),
    taxedIncome: new DataLoader(async (keys) => {
      const found = store.taxedIncome(keys);
      return keys.map((key) => found.get(key) ?? null);
    }),
  };
}
