import DataLoader from 'dataloader';
import type { SubgraphContext } from '../../src/subgraph-kit/types.js';
import type { DebtRestructuringModel, DistraintModel, EnforcementDebtBalanceModel, KronofogdenStore } from './store.js';

/** One DataLoader per field family, created per request; each batch is one store statement. */
export interface KronofogdenLoaders {
  readonly enforcementDebt: DataLoader<string, EnforcementDebtBalanceModel | null>;
  readonly distraints: DataLoader<string, readonly DistraintModel[]>;
  readonly debtRestructuring: DataLoader<string, DebtRestructuringModel | null>;
}

export type KronofogdenContext = SubgraphContext<KronofogdenLoaders>;

export function createKronofogdenLoaders(store: KronofogdenStore): KronofogdenLoaders {
  return {
    enforcementDebt: new DataLoader(async (keys) => {
      const found = store.balances(keys);
      return keys.map((key) => found.get(key) ?? null);
    }),
    distraints: new DataLoader(async (keys) => {
      const found = store.distraints(keys);
      return keys.map((key) => found.get(key) ?? []);
    }),
    debtRestructuring: new DataLoader(async (keys) => {
      const found = store.latestRestructurings(keys);
      return keys.map((key) => found.get(key) ?? null);
    }),
  };
}
