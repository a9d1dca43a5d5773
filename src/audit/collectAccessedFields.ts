import {
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLFormattedError,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type DirectiveNode,
  valueFromASTUntyped,
} from 'graphql';
import type { PersonalFieldCatalogue, PersonalFieldDeclaration } from '../policy/personalFieldCatalogue.js';
import { SUBJECT_ALIAS, TYPENAME_ALIAS } from './subjectMarkers.js';

/** One personal field value as it appears in a response. */
export interface AccessedField {
  readonly subject: string;
  readonly field: PersonalFieldDeclaration;
  /** `released`: the value (possibly null) left with the response; `withheld`: null with a coded error. */
  readonly outcome: 'released' | 'withheld';
  readonly code: string | null;
}

export interface CollectInput {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly data: Record<string, unknown> | null | undefined;
  readonly errors: readonly GraphQLFormattedError[] | undefined;
  readonly catalogue: PersonalFieldCatalogue;
}

/**
 * Walks the response the way graphql-js executes an operation (fragments merged by response key,
 * @skip/@include evaluated with the request's variables, abstract types resolved by the marker
 * typename) and yields one entry per personal field value present in it. A value present in the
 * response is released, even when null; a null with a coded error at its path was withheld.
 */
export function collectAccessedFields(input: CollectInput): AccessedField[] {
  const accessed: AccessedField[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of input.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const errorCodes = new Map<string, string>();
  for (const error of input.errors ?? []) {
    if (!error.path) continue;
    const code = error.extensions?.['code'];
    errorCodes.set(error.path.join('.'), typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
  }
  const codeAt = (path: readonly (string | number)[]): string | null => {
    for (let length = path.length; length > 0; length--) {
      const code = errorCodes.get(path.slice(0, length).join('.'));
      if (code) return code;
    }
    return null;
  };

  const shouldInclude = (directives: readonly DirectiveNode[] | undefined): boolean => {
    for (const directive of directives ?? []) {
      const arg = directive.arguments?.find((a) => a.name.value === 'if');
      if (!arg) continue;
      const value = valueFromASTUntyped(arg.value, input.variables as Record<string, unknown>);
      if (directive.name.value === 'skip' && value === true) return false;
      if (directive.name.value === 'include' && value !== true) return false;
    }
    return true;
  };

  const collectFields = (type: GraphQLObjectType, selectionSets: readonly SelectionSetNode[]): Map<string, FieldNode[]> => {
    const fields = new Map<string, FieldNode[]>();
    const visitSet = (set: SelectionSetNode) => {
      for (const selection of set.selections) {
        if (!shouldInclude(selection.directives)) continue;
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          const list = fields.get(key) ?? [];
          list.push(selection);
          fields.set(key, list);
        } else {
          const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
          if (!fragment) continue;
          const condition = fragment.typeCondition?.name.value;
          if (condition && !typeApplies(input.schema, condition, type)) continue;
          visitSet(fragment.selectionSet);
        }
      }
    };
    for (const set of selectionSets) visitSet(set);
    return fields;
  };

  const walk = (parentType: GraphQLCompositeType, selectionSets: readonly SelectionSetNode[], value: unknown, path: (string | number)[]) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(parentType, selectionSets, item, [...path, index]));
      return;
    }
    const object = value as Record<string, unknown>;
    const type = concreteType(input.schema, parentType, object);
    if (!type) return;
    const subject = object[SUBJECT_ALIAS];
    for (const [key, nodes] of collectFields(type, selectionSets)) {
      if (!(key in object)) continue;
      const name = nodes[0]!.name.value;
      const fieldDef = type.getFields()[name];
      if (!fieldDef) continue;
      const fieldValue = object[key];
      const fieldPath = [...path, key];
      const declaration = input.catalogue.fields.get(`${type.name}.${name}`);
      if (declaration && typeof subject === 'string') {
        const code = fieldValue === null ? codeAt(fieldPath) : null;
        accessed.push({ subject, field: declaration, outcome: code ? 'withheld' : 'released', code });
      }
      const named = getNamedType(fieldDef.type);
      const subSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
      if (subSets.length > 0 && (isObjectType(named) || isAbstractType(named))) walk(named, subSets, fieldValue, fieldPath);
    }
  };

  const root = input.operation.operation === 'query' ? input.schema.getQueryType() : input.operation.operation === 'mutation' ? input.schema.getMutationType() : input.schema.getSubscriptionType();
  if (root && input.data) walk(root, [input.operation.selectionSet], input.data, []);
  return accessed;
}

function concreteType(schema: GraphQLSchema, type: GraphQLCompositeType, object: Record<string, unknown>): GraphQLObjectType | undefined {
  if (isObjectType(type)) return type;
  const name = object[TYPENAME_ALIAS] ?? object['__typename'];
  const resolved = typeof name === 'string' ? schema.getType(name) : undefined;
  return resolved && isObjectType(resolved) ? resolved : undefined;
}

function typeApplies(schema: GraphQLSchema, condition: string, type: GraphQLObjectType): boolean {
  if (condition === type.name) return true;
  const conditionType = schema.getType(condition);
  return !!conditionType && isAbstractType(conditionType) && schema.isSubType(conditionType, type);
}
