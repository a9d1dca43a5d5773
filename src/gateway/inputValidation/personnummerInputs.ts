import {
  getNullableType,
  isInputObjectType,
  isInputType,
  isListType,
  isScalarType,
  Kind,
  TypeInfo,
  typeFromAST,
  valueFromAST,
  visit,
  visitWithTypeInfo,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import { InvalidPersonnummerError, parsePersonnummer } from '../../personnummer/index.js';
import { GatewayError } from '../../errors/index.js';

export const PERSONNUMMER_SCALAR = 'Personnummer';

/** An argument given as a literal, which may still hold variables (`[$a, "19850314-2391"]`). */
interface LiteralArgument {
  readonly value: ValueNode;
  readonly type: GraphQLInputType;
  /** `Type.field(argument)`, as errors name it. */
  readonly where: string;
}

/** Where an operation takes input, found once per operation (see OperationAnalysis). */
export interface PersonnummerInputSites {
  /** False when the schema has no Personnummer scalar: nothing to check. */
  readonly applies: boolean;
  readonly literals: readonly LiteralArgument[];
  readonly variables: readonly { readonly name: string; readonly type: GraphQLInputType }[];
}

/** The operation's literal arguments and typed variables, from one walk of its document. */
export function personnummerInputSites(schema: GraphQLSchema, operation: OperationDefinitionNode): PersonnummerInputSites {
  if (!schema.getType(PERSONNUMMER_SCALAR)) return { applies: false, literals: [], variables: [] };
  const literals: LiteralArgument[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(
    operation,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        const argument = typeInfo.getArgument();
        if (!argument || node.value.kind === Kind.VARIABLE) return;
        literals.push({ value: node.value, type: argument.type, where: `${typeInfo.getParentType()?.name ?? '?'}.${typeInfo.getFieldDef()?.name ?? '?'}(${argument.name})` });
      },
    }),
  );
  const variables: { name: string; type: GraphQLInputType }[] = [];
  for (const definition of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type);
    if (type && isInputType(type)) variables.push({ name: definition.variable.name.value, type });
  }
  return { applies: true, literals, variables };
}

/**
 * Checks every personnummer an operation passes in (literals and variables, inside lists and
 * input objects) before the query plan runs, so a malformed number never reaches an agency and
 * the caller learns exactly what is wrong. The value itself is never echoed.
 */
export function checkPersonnummerInputs(sites: PersonnummerInputSites, variables: Readonly<Record<string, unknown>> | undefined): GatewayError[] {
  if (!sites.applies) return [];
  const errors: GatewayError[] = [];
  const check = (value: unknown, type: GraphQLInputType, where: string) => {
    for (const problem of invalidPersonnummerIn(value, type)) {
      errors.push(new GatewayError('BAD_USER_INPUT', `${where}: ${problem.message}`, { argument: where, problem: problem.problem }));
    }
  };
  for (const literal of sites.literals) {
    const value = valueFromAST(literal.value, literal.type, variables ?? {});
    if (value === undefined) {
      // Literal of the wrong shape (e.g. an Int for a Personnummer): validation did not catch it
      // because the gateway's scalar accepts anything, so say it here.
      if (containsPersonnummer(literal.type)) {
        errors.push(new GatewayError('BAD_USER_INPUT', `${literal.where}: Personnummer must be a string of 12 digits (YYYYMMDDNNNC).`, { argument: literal.where, problem: 'NOT_A_STRING' }));
      }
      continue;
    }
    check(value, literal.type, literal.where);
  }
  for (const { name, type } of sites.variables) {
    if (variables && name in variables) check(variables[name], type, `$${name}`);
  }
  return errors;
}

function containsPersonnummer(type: GraphQLInputType): boolean {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return containsPersonnummer(nullable.ofType);
  return isScalarType(nullable) && nullable.name === PERSONNUMMER_SCALAR;
}

function* invalidPersonnummerIn(value: unknown, type: GraphQLInputType): Generator<InvalidPersonnummerError> {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    for (const item of Array.isArray(value) ? value : [value]) yield* invalidPersonnummerIn(item, nullable.ofType);
    return;
  }
  if (isScalarType(nullable) && nullable.name === PERSONNUMMER_SCALAR) {
    try {
      parsePersonnummer(value);
    } catch (error) {
      if (error instanceof InvalidPersonnummerError) yield error;
      else throw error;
    }
    return;
  }
  if (isInputObjectType(nullable) && typeof value === 'object') {
    const fields = nullable.getFields();
    for (const [key, fieldValue] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[key];
      if (field) yield* invalidPersonnummerIn(fieldValue, field.type);
    }
  }
}
