import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type InlineFragmentNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * Field resolvers do not run in a federated gateway, so the access log learns whose data each
 * value is from the response itself. For that every selection on a data-subject type also asks
 * for the subject's key, and every selection on an abstract type for the concrete type, under
 * reserved aliases that are removed before the response leaves.
 */
export const SUBJECT_ALIAS = '_audit_subject';
export const TYPENAME_ALIAS = '_audit_type';
export const RESERVED_ALIAS_PREFIX = '_audit_';

const field = (alias: string, name: string): FieldNode => ({
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: alias },
  name: { kind: Kind.NAME, value: name },
});

/** The document with markers added. Deterministic, so a cached query plan matches its rewrite. */
export function addSubjectMarkers(schema: GraphQLSchema, document: DocumentNode, subjectTypes: ReadonlyMap<string, { readonly keyField: string }>): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      SelectionSet: {
        leave(node: SelectionSetNode): SelectionSetNode {
          const type = typeInfo.getParentType();
          if (!type) return node;
          const extra: SelectionNode[] = [];
          if (isAbstractType(type)) {
            extra.push(field(TYPENAME_ALIAS, '__typename'));
            for (const possible of schema.getPossibleTypes(type)) {
              const subject = subjectTypes.get(possible.name);
              if (subject) extra.push(inlineOn(possible.name, [field(SUBJECT_ALIAS, subject.keyField)]));
            }
          } else {
            const subject = subjectTypes.get(type.name);
            if (subject) extra.push(field(SUBJECT_ALIAS, subject.keyField));
          }
          return extra.length === 0 ? node : { ...node, selections: [...node.selections, ...extra] };
        },
      },
    }),
  );
}

function inlineOn(typeName: string, selections: SelectionNode[]): InlineFragmentNode {
  return {
    kind: Kind.INLINE_FRAGMENT,
    typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: typeName } },
    selectionSet: { kind: Kind.SELECTION_SET, selections },
  };
}

/** Removes the markers from response data in place. */
export function stripSubjectMarkers(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) stripSubjectMarkers(item);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key.startsWith(RESERVED_ALIAS_PREFIX)) delete record[key];
    else stripSubjectMarkers(record[key]);
  }
}

/** Client documents may not use the reserved aliases: they would be taken for markers. */
export function usesReservedAlias(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if ((node.alias?.value ?? node.name.value).startsWith(RESERVED_ALIAS_PREFIX)) found = true;
    },
  });
  return found;
}

export function isCompositeOutput(type: Parameters<typeof getNamedType>[0]): boolean {
  return isCompositeType(getNamedType(type));
}
