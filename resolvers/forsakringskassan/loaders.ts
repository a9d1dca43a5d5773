import DataLoader from 'dataloader';
import type { SubgraphContext } from '../../src/subgraph-kit/types.js';
import type { BenefitDecisionModel, BenefitPaymentModel, ForsakringskassanStore, SicknessDecisionModel, SicknessPaymentModel } from './store.js';

/**
 * One DataLoader per field family, created per request; each batch is one store statement.
 * Person-level families are keyed by personnummer, payments under decisions by decision id,
 * so a list of decisions costs one statement for all their payments.
 */
export interface ForsakringskassanLoaders {
  readonly benefitDecisions: DataLoader<string, readonly BenefitDecisionModel[]>;
  readonly benefitPayments: DataLoader<string, readonly BenefitPaymentModel[]>;
  readonly decisionPayments: DataLoader<number, readonly BenefitPaymentModel[]>;
  readonly sicknessDecisions: DataLoader<string, readonly SicknessDecisionModel[]>;
  readonly sicknessPayments: DataLoader<number, readonly SicknessPaymentModel[]>;
}

export type ForsakringskassanContext = SubgraphContext<ForsakringskassanLoaders>;

function batchOf<K, V>(fetch: (keys: readonly K[]) => Map<K, V[]>): DataLoader<K, readonly V[]> {
  return new DataLoader<K, readonly V[]>(async (keys) => {
    const found = fetch(keys);
    return keys.map((key) => found.get(key) ?? []);
  });
}

export function createForsakringskassanLoaders(store: ForsakringskassanStore): ForsakringskassanLoaders {
  return {
    benefitDecisions: batchOf((keys) => store.benefitDecisions(keys)),
    benefitPayments: batchOf((keys) => store.benefitPaymentsByPerson(keys)),
    decisionPayments: batchOf((keys) => store.benefitPaymentsByDecision(keys)),
    sicknessDecisions: batchOf((keys) => store.sicknessDecisions(keys)),
    sicknessPayments: batchOf((keys) => store.sicknessPaymentsByDecision(keys)),
  };
}
