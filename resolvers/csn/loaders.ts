import DataLoader from 'dataloader';
import type { SubgraphContext } from '../../src/subgraph-kit/types.js';
import type { CsnStore, StudentAidPeriodModel, StudentLoanAccountModel } from './store.js';

/** One DataLoader per field family, created per request; each batch is one store statement. */
export interface CsnLoaders {
  readonly studentAid: DataLoader<string, readonly StudentAidPeriodModel[]>;
  readonly studentLoan: DataLoader<string, StudentLoanAccountModel | null>;
}

export type CsnContext = SubgraphContext<CsnLoaders>;

export function createCsnLoaders(store: CsnStore): CsnLoaders {
  return {
    studentAid: new DataLoader(async (keys) => {
      const found = store.studentAid(keys);
      return keys.map((key) => found.get(key) ?? []);
    }),
    studentLoan: new DataLoader(async (keys) => {
      const found = store.studentLoans(keys);
      return keys.map((key) => found.get(key) ?? null);
    }),
  };
}
