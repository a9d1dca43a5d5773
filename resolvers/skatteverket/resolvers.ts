import { GatewayError } from '../../src/errors/index.js';
import { sharedScalarResolvers } from '../../src/subgraph-kit/scalars.js';
import { personRefFrom, type PersonRef } from '../shared/personRef.js';
import type { Resolvers } from './__generated__/types.js';
import type { SkatteverketLoaders } from './loaders.js';
import type { RegisteredPerson } from './store.js';

/** Income years outside this span are a mistyped year, not a year without data. */
const FIRST_INCOME_YEAR = 1900;
const LAST_INCOME_YEAR = 2100;

function registered(loaders: SkatteverketLoaders, parent: PersonRef): Promise<RegisteredPerson | null> {
  return loaders.person.load(parent.personnummer);
}

export const skatteverketResolvers: Resolvers = {
  ...sharedScalarResolvers,
  Query: {
    // A number that is not in the register is an answer (null), not an error.
    person: (_root, { personnummer }, { loaders }) => loaders.person.load(personnummer),
    persons: async (_root, { personnummer }, { loaders }) => {
      const found = await loaders.person.loadMany(personnummer);
      return found.map((person) => {
        if (person instanceof Error) throw person;
        return person;
      });
    },
    lookup: async (_root, { personnummer }, { loaders }) =>
      (await loaders.person.load(personnummer)) ? { __typename: 'Person' as const, personnummer } : { __typename: 'NotInRegister' as const, reason: 'UNKNOWN_NUMBER' as const },
  },
  Person: {
    __resolveReference: (reference) => personRefFrom(reference),
    name: async (parent, _args, { loaders }) => (await registered(loaders, parent))?.name ?? null,
    dateOfBirth: async (parent, _args, { loaders }) => (await registered(loaders, parent))?.dateOfBirth ?? null,
    sex: async (parent, _args, { loaders }) => (await registered(loaders, parent))?.sex ?? null,
    identityNumberKind: async (parent, _args, { loaders }) => (await registered(loaders, parent))?.identityNumberKind ?? null,
    protectedIdentity: async (parent, _args, { loaders }) => (await registered(loaders, parent))?.protectedIdentity ?? null,
    registeredAddress: async (parent, _args, { loaders }) => (await registered(loaders, parent))?.registeredAddress ?? null,
    civilStatus: async (parent, _args, { loaders }) => (await registered(loaders, parent))?.civilStatus ?? null,
    household: async (parent, _args, { loaders }) => {
      const members = await loaders.household.load(parent.personnummer);
      return members?.map((personnummer) => ({ personnummer })) ?? null;
    },
    taxedIncome: async (parent, { year }, { loaders }) => {
      if (year !== undefined && year !== null && (year < FIRST_INCOME_YEAR || year > LAST_INCOME_YEAR)) {
        throw GatewayError.field('BAD_USER_INPUT', `Argument "year" must be an income year from ${FIRST_INCOME_YEAR} to ${LAST_INCOME_YEAR}.`, {
          argument: 'year',
        });
      }
      const years = await loaders.taxedIncome.load(parent.personnummer);
      if (!years) return null;
      return year === undefined || year === null ? [...years] : years.filter((income) => income.year === year);
    },
  },
};
