import {
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLFormattedError,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
// graphql-js's own field collection, the one `execute` uses: fragments (named and inline, with
// type conditions) and field merging by response key exactly as execution does them.
import { collectFields, collectSubfields } from 'graphql/execution/collectFields.js';
import type { PersonalFieldCatalogue, PersonalFieldDeclaration } from '../policy/personalFieldCatalogue.js';
import { RESERVED_ALIAS_PREFIX, SUBJECT_ALIAS, TYPENAME_ALIAS } from './subjectMarkers.js';

/** One personal value of a response, or one withheld there. */
export interface AccessedField {
  /** Canonical personnummer whose data it is; null when the response did not say (the value is then withheld). */
  readonly subject: string | null;
  /** Schema coordinate `Type.field`. */
  readonly coordinate: string;
  /** Agency that owns the value. */
  readonly owner: string;
  /**
   * The personal field whose purpose decision is this value's legal basis: the field itself, or,
   * for a person's key disclosed through a relation (household), the relation that reached it.
   * Null for a key disclosed with no personal field above it.
   */
  readonly basis: string | null;
  /** `released`: the value (possibly null) left with the response; `withheld`: null with a coded error. */
  readonly outcome: 'released' | 'withheld';
  readonly code: string | null;
}

export interface ReadResult {
  readonly accessed: AccessedField[];
  /** Errors to add to the response for values the reader withheld (their subject or type could not be told). */
  readonly errors: GraphQLFormattedError[];
}

/** Reads the responses of one operation; built once per document and reused by every request. */
export interface ResponseReader {
  /**
   * Walks `data` once: yields one entry per personal value present, withholds (sets to null, with
   * a coded error) any value whose subject or type it cannot tell or whose key it does not know,
   * and removes the access log's markers, so what is left is exactly what the entries describe.
   */
  read(input: {
    readonly data: Record<string, unknown> | null | undefined;
    readonly errors: readonly GraphQLFormattedError[] | undefined;
    /** The subjects of the case: a person's key disclosed for anyone else gets its own entry. */
    readonly caseSubjects: readonly string[];
  }): ReadResult;
}

type FieldMap = ReadonlyMap<string, readonly FieldNode[]>;

/** A response key of an object of one concrete type, as the reader treats it. */
interface KeyPlan {
  /** `Type.field`. */
  readonly coordinate: string;
  readonly declaration: PersonalFieldDeclaration | undefined;
  /** The subject type's key field selected by the client: disclosing it is disclosing a personnummer. */
  readonly isSubjectKey: boolean;
  /** Field nodes merged under this key, when the walk goes on below it. */
  readonly below: { readonly type: GraphQLCompositeType; readonly nodes: readonly FieldNode[] } | undefined;
}

/**
 * The reader of an operation's responses. It reads what is there, not what variables say should
 * be: a value present in the response has left the gateway, whatever `@skip`/`@include` and
 * variable defaults decided, so the plan is collected with graphql-js's own `collectFields` on the
 * document with its `@skip`/`@include` removed (every key the response could hold), and the data
 * decides which of them were released. No second reading of directives or variables can then
 * disagree with execution. A key the plan does not know is withheld, never passed unlogged.
 */
export function createResponseReader(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, catalogue: PersonalFieldCatalogue): ResponseReader {
  const unconditional = withoutConditions(document);
  // Removing directives keeps every definition in its place.
  const operationNode = unconditional.definitions[document.definitions.indexOf(operation)] as OperationDefinitionNode | undefined;
  const fragments: Record<string, FragmentDefinitionNode> = Object.create(null);
  for (const d of unconditional.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();

  // Plans per (parent field nodes, concrete type): the field-node arrays are themselves cached, so
  // every object of a list, and every later request, reuses the same plan.
  const plans = new Map<readonly FieldNode[] | OperationDefinitionNode, Map<GraphQLObjectType, ReadonlyMap<string, KeyPlan>>>();
  const planOf = (parent: readonly FieldNode[] | OperationDefinitionNode, type: GraphQLObjectType): ReadonlyMap<string, KeyPlan> => {
    let byType = plans.get(parent);
    if (!byType) plans.set(parent, (byType = new Map()));
    const known = byType.get(type);
    if (known) return known;
    const collected: FieldMap = Array.isArray(parent)
      ? collectSubfields(schema, fragments, {}, type, parent as readonly FieldNode[])
      : collectFields(schema, fragments, {}, type, (parent as OperationDefinitionNode).selectionSet);
    const keyField = catalogue.subjectTypes.get(type.name)?.keyField;
    const plan = new Map<string, KeyPlan>();
    for (const [key, nodes] of collected) {
      const name = nodes[0]!.name.value;
      const definition = name === '__typename' ? undefined : type.getFields()[name];
      const named = definition ? getNamedType(definition.type) : undefined;
      plan.set(key, {
        coordinate: `${type.name}.${name}`,
        declaration: catalogue.fields.get(`${type.name}.${name}`),
        isSubjectKey: name === keyField,
        below: named && (isObjectType(named) || isAbstractType(named)) ? { type: named, nodes } : undefined,
      });
    }
    byType.set(type, plan);
    return plan;
  };

  return {
    read({ data, errors, caseSubjects }) {
      const accessed: AccessedField[] = [];
      const added: GraphQLFormattedError[] = [];
      if (!data) return { accessed, errors: added };
      // Data that cannot be read cannot be logged, so it must not be released (the caller fails closed).
      if (!root || !operationNode) throw new Error(`The response to a ${operation.operation} cannot be read for the access log.`);
      const errorCodes = new Map<string, string>();
      for (const error of errors ?? []) {
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
      const subjects = new Set(caseSubjects);
      const path: (string | number)[] = [];
      const withhold = (object: Record<string | number, unknown>, key: string | number, code: 'SUBJECT_UNKNOWN' | 'INTERNAL_SERVER_ERROR', message: string) => {
        object[key] = null;
        added.push({ message, path: [...path], extensions: { code } });
      };

      /** Walks a field's value; false when it must be withheld as a whole. */
      const walkValue = (type: GraphQLCompositeType, parent: readonly FieldNode[], value: unknown, subject: string | null, via: PersonalFieldDeclaration | undefined): boolean => {
        if (value === null || value === undefined || typeof value !== 'object') return true;
        if (Array.isArray(value)) {
          for (let index = 0; index < value.length; index++) {
            path.push(index);
            if (!walkValue(type, parent, value[index], subject, via)) withhold(value as unknown as Record<number, unknown>, index, 'INTERNAL_SERVER_ERROR', 'A value of an unknown type was withheld.');
            path.pop();
          }
          return true;
        }
        return walkObject(type, parent, value as Record<string, unknown>, subject, via);
      };

      /** Walks an object; false when its type cannot be told and it must be withheld as a whole. */
      const walkObject = (
        parentType: GraphQLCompositeType,
        parent: readonly FieldNode[] | OperationDefinitionNode,
        object: Record<string, unknown>,
        inherited: string | null,
        via: PersonalFieldDeclaration | undefined,
      ): boolean => {
        const type = concreteType(schema, parentType, object);
        // Whose or what the values are cannot be told: nothing of the object is released.
        if (!type) return false;
        const subjectType = catalogue.subjectTypes.has(type.name);
        const marker = object[SUBJECT_ALIAS];
        // A person's own values are theirs; values of plain objects below a person are that person's.
        const subject = subjectType ? (typeof marker === 'string' && marker !== '' ? marker : null) : inherited;
        const plan = planOf(parent, type);
        for (const key of Object.keys(object)) {
          if (key.startsWith(RESERVED_ALIAS_PREFIX)) {
            delete object[key];
            continue;
          }
          const planned = plan.get(key);
          path.push(key);
          if (!planned) {
            withhold(object, key, 'INTERNAL_SERVER_ERROR', 'A value the operation did not select was withheld.');
            path.pop();
            continue;
          }
          const fieldValue = object[key];
          if (planned.declaration) {
            const field = planned.declaration;
            if (subject === null && fieldValue !== null) {
              // A value of someone the response does not name (no key, or a null one): it cannot be
              // logged as anyone's, so it does not leave.
              withhold(object, key, 'SUBJECT_UNKNOWN', `${field.coordinate} is withheld: the response does not say whose data it is.`);
              accessed.push({ subject: null, coordinate: field.coordinate, owner: field.owner, basis: field.coordinate, outcome: 'withheld', code: 'SUBJECT_UNKNOWN' });
              path.pop();
              continue;
            }
            const code = fieldValue === null && errorCodes.size > 0 ? codeAt(path) : null;
            accessed.push({ subject, coordinate: field.coordinate, owner: field.owner, basis: field.coordinate, outcome: code ? 'withheld' : 'released', code });
            if (planned.below && !walkValue(planned.below.type, planned.below.nodes, fieldValue, subject, field))
              withhold(object, key, 'INTERNAL_SERVER_ERROR', 'A value of an unknown type was withheld.');
          } else {
            if (planned.isSubjectKey && typeof fieldValue === 'string' && !subjects.has(fieldValue)) {
              // A personnummer the caller did not already hold (a household member): its disclosure is logged as theirs.
              accessed.push({ subject: fieldValue, coordinate: planned.coordinate, owner: via?.owner ?? GATEWAY_OWNER, basis: via?.coordinate ?? null, outcome: 'released', code: null });
            }
            if (planned.below && !walkValue(planned.below.type, planned.below.nodes, fieldValue, subject, via))
              withhold(object, key, 'INTERNAL_SERVER_ERROR', 'A value of an unknown type was withheld.');
          }
          path.pop();
        }
        return true;
      };

      if (!walkObject(root, operationNode, data, null, undefined)) throw new Error('The response root cannot be read for the access log.');
      return { accessed, errors: added };
    },
  };
}

/** `owningAgency` of a key disclosed with no personal field above it. */
const GATEWAY_OWNER = 'gateway';

/** The document with every @skip and @include removed: the selections a response could hold. */
function withoutConditions(document: DocumentNode): DocumentNode {
  return visit(document, {
    Directive(node) {
      return node.name.value === 'skip' || node.name.value === 'include' ? null : undefined;
    },
  });
}

function concreteType(schema: GraphQLSchema, type: GraphQLCompositeType, object: Record<string, unknown>): GraphQLObjectType | undefined {
  if (isObjectType(type)) return type;
  // Only the gateway's own marker: a partner may alias any String field as __typename, and the
  // marker is added to every selection on a union or interface (subjectMarkers.ts). Without it,
  // nothing of the object is released.
  const name = object[TYPENAME_ALIAS];
  const resolved = typeof name === 'string' ? schema.getType(name) : undefined;
  return resolved && isObjectType(resolved) && schema.isSubType(type, resolved) ? resolved : undefined;
}
