import { sharedScalarResolvers } from '../../src/subgraph-kit/scalars.js';
import { dateRange, periodOverlaps } from '../shared/arguments.js';
import { personRefFrom } from '../shared/personRef.js';
import type { Resolvers } from './__generated__/types.js';

export const csnResolvers: Resolvers = {
  ...sharedScalarResolvers,
  Person: {
    __resolveReference: (reference) => personRefFrom(reference),
    // A period counts when it overlaps the dates asked for.
    studentAid: async (parent, { from, to }, { loaders }) => {
      const range = dateRange(from, to);
      return (await loaders.studentAid.load(parent.personnummer)).filter((aid) => periodOverlaps(aid.period, range));
    },
    studentLoan: (parent, _args, { loaders }) => loaders.studentLoan.load(parent.personnummer),
  },
};
