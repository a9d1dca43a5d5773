import {
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  visit,
  BREAK,
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

export interface AccessPlanInput {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  /** Decide @skip/@include; irrelevant to a document without them (see hasConditionalSelections). */
  readonly variables: Readonly<Record<string, unknown>>;
  readonly catalogue: PersonalFieldCatalogue;
}

/** A response key of a selection on one object type. */
interface PlannedField {
  readonly key: string;
  readonly declaration: PersonalFieldDeclaration | undefined;
  /** The field's composite type and merged sub-selections, when the walk goes on below it. */
  readonly below: { readonly type: GraphQLCompositeType; readonly selectionSets: readonly SelectionSetNode[] } | undefined;
}

/**
 * How responses to one operation are read: per object type and selection, which response keys
 * to look at and which of them are personal fields. Worked out as the walk first meets each
 * (type, selection) and kept, so the objects of a list, and the responses of later requests when
 * the plan is reused, are read without merging fragments again.
 */
export interface AccessPlan {
  readonly schema: GraphQLSchema;
  readonly root: GraphQLObjectType | undefined;
  readonly rootSelectionSets: readonly SelectionSetNode[];
  fieldsOf(type: GraphQLObjectType, selectionSets: readonly SelectionSetNode[]): readonly PlannedField[];
}

/** Whether the document selects anything under @skip or @include: only then does a plan depend on the variables. */
export function hasConditionalSelections(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value !== 'skip' && node.name.value !== 'include') return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/** The plan for an operation's responses, fragments merged by response key as graphql-js executes them. */
export function planAccess(input: AccessPlanInput): AccessPlan {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of input.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

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

  const plans = new Map<readonly SelectionSetNode[], Map<GraphQLObjectType, readonly PlannedField[]>>();
  const { operation, schema } = input;
  return {
    schema,
    root: operation.operation === 'query' ? schema.getQueryType() ?? undefined : operation.operation === 'mutation' ? schema.getMutationType() ?? undefined : schema.getSubscriptionType() ?? undefined,
    rootSelectionSets: [operation.selectionSet],
    fieldsOf(type, selectionSets) {
      let byType = plans.get(selectionSets);
      if (!byType) plans.set(selectionSets, (byType = new Map()));
      const known = byType.get(type);
      if (known) return known;
      const planned: PlannedField[] = [];
      for (const [key, nodes] of collectFields(type, selectionSets)) {
        const name = nodes[0]!.name.value;
        const fieldDef = type.getFields()[name];
        if (!fieldDef) continue;
        const named = getNamedType(fieldDef.type);
        const subSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
        planned.push({
          key,
          declaration: input.catalogue.fields.get(`${type.name}.${name}`),
          below: subSets.length > 0 && (isObjectType(named) || isAbstractType(named)) ? { type: named, selectionSets: subSets } : undefined,
        });
      }
      byType.set(type, planned);
      return planned;
    },
  };
}

/**
 * Walks the response the way graphql-js executes an operation (fragments merged by response key,
 * @skip/@include evaluated with the request's variables, abstract types resolved by the marker
 * typename) and yields one entry per personal field value present in it. A value present in the
 * response is released, even when null; a null with a coded error at its path was withheld.
 */
export function collectAccessedFields(input: {
  readonly plan: AccessPlan;
  readonly data: Record<string, unknown> | null | undefined;
  readonly errors: readonly GraphQLFormattedError[] | undefined;
}): AccessedField[] {
  const { plan } = input;
  const accessed: AccessedField[] = [];
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

  // The response path, pushed and popped as the walk goes (a copy only where an error is looked up).
  const path: (string | number)[] = [];
  const walk = (parentType: GraphQLCompositeType, selectionSets: readonly SelectionSetNode[], value: unknown) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        path.push(index);
        walk(parentType, selectionSets, value[index]);
        path.pop();
      }
      return;
    }
    const object = value as Record<string, unknown>;
    const type = concreteType(plan.schema, parentType, object);
    if (!type) return;
    const subject = object[SUBJECT_ALIAS];
    for (const field of plan.fieldsOf(type, selectionSets)) {
      if (!(field.key in object)) continue;
      const fieldValue = object[field.key];
      path.push(field.key);
      if (field.declaration && typeof subject === 'string') {
        const code = fieldValue === null && errorCodes.size > 0 ? codeAt(path) : null;
        accessed.push({ subject, field: field.declaration, outcome: code ? 'withheld' : 'released', code });
      }
      if (field.below) walk(field.below.type, field.below.selectionSets, fieldValue);
      path.pop();
    }
  };

  if (plan.root && input.data) walk(plan.root, plan.rootSelectionSets, input.data);
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
