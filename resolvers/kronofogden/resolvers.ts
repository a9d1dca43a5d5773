import { sharedScalarResolvers } from '../../src/subgraph-kit/scalars.js';
import { dateRange, periodOverlaps } from '../shared/arguments.js';
import { personRefFrom } from '../shared/personRef.js';
import type { Resolvers } from './__generated__/types.js';

export const kronofogdenResolvers: Resolvers = {
  ...sharedScalarResolvers,
  Person: {
    __resolveReference: (reference) => personRefFrom(reference),
    enforcementDebt: (parent, _args, { loaders }) => loaders.enforcementDebt.load(parent.personnummer),
    distraints: async (parent, { from, to }, { loaders }) => {
      const range = dateRange(from, to);
      return (await loaders.distraints.load(parent.personnummer)).filter((distraint) => periodOverlaps(distraint.period, range));
    },
    debtRestructuring: (parent, _args, { loaders }) => loaders.debtRestructuring.load(parent.personnummer),
  },
};
