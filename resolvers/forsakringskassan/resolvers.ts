import { sharedScalarResolvers } from '../../src/subgraph-kit/scalars.js';
import { dateRange, dayInRange, enumFilter } from '../shared/arguments.js';
import { personRefFrom } from '../shared/personRef.js';
import type { Resolvers } from './__generated__/types.js';

export const forsakringskassanResolvers: Resolvers = {
  ...sharedScalarResolvers,
  Person: {
    // A person without decisions here is not an error: the lists are simply empty.
    __resolveReference: (reference) => personRefFrom(reference),
    benefits: async (parent, { types }, { loaders }) => {
      const wanted = enumFilter(types);
      return (await loaders.benefitDecisions.load(parent.personnummer)).filter((decision) => wanted(decision.benefit));
    },
    benefitPayments: async (parent, { from, to, types }, { loaders }) => {
      const range = dateRange(from, to);
      const wanted = enumFilter(types);
      return (await loaders.benefitPayments.load(parent.personnummer)).filter((payment) => wanted(payment.benefit) && dayInRange(payment.paidOn, range));
    },
    sicknessBenefit: async (parent, _args, { loaders }) => [...(await loaders.sicknessDecisions.load(parent.personnummer))],
  },
  BenefitDecision: {
    payments: async (decision, _args, { loaders }) => [...(await loaders.decisionPayments.load(Number(decision.id)))],
  },
  SicknessBenefitDecision: {
    payments: async (decision, _args, { loaders }) => [...(await loaders.sicknessPayments.load(Number(decision.id)))],
  },
};
