import DataLoader from 'dataloader';
import type { SubgraphContext } from '../../src/subgraph-kit/types.js';
import type { ActivitySupportPaymentModel, ArbetsformedlingenStore, JobSeekerRegistrationModel } from './store.js';

/** One DataLoader per field family, created per request; each batch is one store statement. */
export interface ArbetsformedlingenLoaders {
  readonly jobSeeker: DataLoader<string, JobSeekerRegistrationModel | null>;
  readonly activitySupport: DataLoader<string, readonly ActivitySupportPaymentModel[]>;
}

export type ArbetsformedlingenContext = SubgraphContext<ArbetsformedlingenLoaders>;

export function createArbetsformedlingenLoaders(store: ArbetsformedlingenStore): ArbetsformedlingenLoaders {
  return {
    jobSeeker: new DataLoader(async (keys) => {
      const found = store.currentRegistrations(keys);
      return keys.map((key) => found.get(key) ?? null);
    }),
    activitySupport: new DataLoader(async (keys) => {
      const found = store.activitySupport(keys);
      return keys.map((key) => found.get(key) ?? []);
    }),
  };
}
