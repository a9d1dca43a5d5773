import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { InvalidPersonnummerError, parsePersonnummer } from '../personnummer/index.js';

/**
 * The scalars every agency subgraph shares. Input is validated where it enters a subgraph, so a
 * subgraph reached without the gateway still refuses a malformed personnummer.
 */

function badInput(message: string, problem?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(problem ? { problem } : {}) } });
}

export const PersonnummerScalar: GraphQLScalarType<string, string> = new GraphQLScalarType<string, string>({
  name: 'Personnummer',
  description: 'Swedish personnummer or samordningsnummer, 12 digits YYYYMMDDNNNC.',
  serialize(value) {
    if (typeof value !== 'string') throw new GraphQLError('Personnummer must serialize from a string');
    return value;
  },
  parseValue(value) {
    try {
      return parsePersonnummer(value).canonical;
    } catch (error) {
      if (error instanceof InvalidPersonnummerError) throw badInput(error.message, error.problem);
      throw error;
    }
  },
  parseLiteral(ast): string {
    if (ast.kind !== Kind.STRING) throw badInput('Personnummer must be a string of 12 digits (YYYYMMDDNNNC).', 'NOT_A_STRING');
    return PersonnummerScalar.parseValue(ast.value);
  },
});

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

export const DateScalar: GraphQLScalarType<string, string> = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'Calendar date, ISO 8601 (YYYY-MM-DD).',
  serialize(value) {
    if (typeof value === 'string' && isIsoDate(value)) return value;
    throw new GraphQLError('Date must serialize from a YYYY-MM-DD string');
  },
  parseValue(value) {
    if (typeof value === 'string' && isIsoDate(value)) return value;
    throw badInput('Date must be a calendar date written YYYY-MM-DD.');
  },
  parseLiteral(ast): string {
    if (ast.kind !== Kind.STRING) throw badInput('Date must be a string written YYYY-MM-DD.');
    return DateScalar.parseValue(ast.value);
  },
});

export const OreScalar: GraphQLScalarType<number, number> = new GraphQLScalarType<number, number>({
  name: 'Ore',
  description: 'Amount of money in öre (1/100 SEK), an integer.',
  serialize(value) {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    if (typeof value === 'bigint') return Number(value);
    throw new GraphQLError('Ore must serialize from a safe integer');
  },
  parseValue(value) {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    throw badInput('Ore must be an integer number of öre.');
  },
  parseLiteral(ast): number {
    if (ast.kind !== Kind.INT) throw badInput('Ore must be an integer number of öre.');
    return OreScalar.parseValue(Number(ast.value));
  },
});

export const sharedScalarResolvers = {
  Personnummer: PersonnummerScalar,
  Date: DateScalar,
  Ore: OreScalar,
};
