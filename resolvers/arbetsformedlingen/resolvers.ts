import { sharedScalarResolvers } from '../../src/subgraph-kit/scalars.js';
import { dateRange, dayInRange } from '../shared/arguments.js';
import { personRefFrom } from '../shared/personRef.js';
import type { Resolvers } from './__generated__/types.js';

export const arbetsformedlingenResolvers: Resolvers = {
  ...sharedScalarResolvers,
  Person: {
    __resolveReference: (reference) => personRefFrom(reference),
    jobSeeker: (parent, _args, { loaders }) => loaders.jobSeeker.load(parent.personnummer),
    activitySupport: async (parent, { from, to }, { loaders }) => {
      const range = dateRange(from, to);
      return (await loaders.activitySupport.load(parent.personnummer)).filter((payment) => dayInRange(payment.paidOn, range));
    },
  },
};
