import {
  getArgumentValues,
  getNullableType,
  GraphQLError,
  isInputObjectType,
  isListType,
  isScalarType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { GatewayError } from '../errors/index.js';
import { operationDefinitions } from '../policy/operationDefinitions.js';

export const PERSONNUMMER_SCALAR = 'Personnummer';

/** A field of the document that takes a personnummer somewhere in its arguments. */
interface PersonnummerSite {
  readonly node: FieldNode;
  readonly field: GraphQLField<unknown, unknown>;
  /** `Type.field`, as denials name it. */
  readonly coordinate: string;
}

/** Where an operation takes personnummer, found once per document (see OperationAnalysis). */
export interface PersonnummerInputSites {
  readonly sites: readonly PersonnummerSite[];
}

/** One personnummer an operation passes in, with where it goes. */
export interface PersonnummerInput {
  readonly value: unknown;
  /** `Type.field(argument)`, as errors name it. */
  readonly where: string;
  readonly coordinate: string;
}

/**
 * Every field of the operation (and of every fragment it reaches) whose arguments hold a
 * Personnummer, at any depth of lists and input objects. `@skip`/`@include` are ignored on purpose:
 * a number that may be sent is checked as sent.
 */
export function personnummerInputSites(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): PersonnummerInputSites {
  if (!schema.getType(PERSONNUMMER_SCALAR)) return { sites: [] };
  const sites: PersonnummerSite[] = [];
  const typeInfo = new TypeInfo(schema);
  const takesPersonnummer = new Map<GraphQLInputType, boolean>();
  const visitor = visitWithTypeInfo(typeInfo, {
    Field(node) {
      const field = typeInfo.getFieldDef();
      const parent = typeInfo.getParentType();
      if (!field || !parent || field.args.length === 0) return;
      if (field.args.some((argument) => containsPersonnummer(argument.type, takesPersonnummer))) {
        sites.push({ node, field, coordinate: `${parent.name}.${field.name}` });
      }
    },
  });
  for (const definition of operationDefinitions(document, operation)) visit(definition, visitor);
  return { sites };
}

/**
 * The personnummer the operation passes in, read from the argument values graphql-js coerces for
 * execution (`getArgumentValues` over the request's coerced variables: variable defaults and
 * argument defaults included), so what is checked is what the agencies would receive.
 */
export function personnummerInputs(sites: PersonnummerInputSites, variables: Readonly<Record<string, unknown>>): { readonly inputs: PersonnummerInput[]; readonly errors: GatewayError[] } {
  const inputs: PersonnummerInput[] = [];
  const errors: GatewayError[] = [];
  for (const site of sites.sites) {
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(site.field, site.node, variables as Record<string, unknown>);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      errors.push(new GatewayError('BAD_USER_INPUT', `${site.coordinate}: an argument has an invalid value.`, { argument: site.coordinate, problem: 'INVALID_VALUE' }));
      continue;
    }
    for (const argument of site.field.args) {
      const where = `${site.coordinate}(${argument.name})`;
      for (const value of personnummerValues(values[argument.name], argument.type)) inputs.push({ value, where, coordinate: site.coordinate });
    }
  }
  return { inputs, errors };
}

function containsPersonnummer(type: GraphQLInputType, memo: Map<GraphQLInputType, boolean>): boolean {
  const known = memo.get(type);
  if (known !== undefined) return known;
  memo.set(type, false); // input objects may refer to themselves
  const nullable = getNullableType(type);
  const result = isListType(nullable)
    ? containsPersonnummer(nullable.ofType, memo)
    : isScalarType(nullable)
      ? nullable.name === PERSONNUMMER_SCALAR
      : isInputObjectType(nullable) && Object.values(nullable.getFields()).some((field) => containsPersonnummer(field.type, memo));
  memo.set(type, result);
  return result;
}

function* personnummerValues(value: unknown, type: GraphQLInputType): Generator<unknown> {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    for (const item of Array.isArray(value) ? value : [value]) yield* personnummerValues(item, nullable.ofType);
    return;
  }
  if (isScalarType(nullable)) {
    if (nullable.name === PERSONNUMMER_SCALAR) yield value;
    return;
  }
  if (isInputObjectType(nullable) && typeof value === 'object') {
    const fields = nullable.getFields();
    for (const [key, fieldValue] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[key];
      if (field) yield* personnummerValues(fieldValue, field.type);
    }
  }
}
