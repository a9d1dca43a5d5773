import { isAbstractType, Kind, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';

/**
 * Every field coordinate (`Type.field`) an operation may request, with fields selected on an
 * interface or union expanded to each possible object type (so a field an entity interface or an
 * `@interfaceObject` subgraph declares is judged on each implementation). Fragments (named and
 * inline) are followed, aliases are irrelevant (the coordinate is what counts), and
 * `@skip`/`@include` are ignored on purpose: a field that may be requested is checked as
 * requested, because variables decide at execution time.
 *
 * With `requires` (the catalogue's), what the query plan fetches for a requested field's
 * `@requires` is added too, transitively: it leaves its owner for another subgraph on this
 * request's behalf, so it must be allowed for the request's purpose like a selected field.
 */
export function collectFieldCoordinates(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  options: { readonly requires?: ReadonlyMap<string, readonly string[]> } = {},
): Set<string> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const coordinates = new Set<string>();
  const visitedFragments = new Set<string>();
  const pending: Array<OperationDefinitionNode | FragmentDefinitionNode> = [operation];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const typeInfo = new TypeInfo(schema);
    visit(
      node,
      visitWithTypeInfo(typeInfo, {
        Field(field) {
          const parent = typeInfo.getParentType();
          if (!parent || field.name.value.startsWith('__')) return;
          const name = field.name.value;
          if (isAbstractType(parent)) {
            for (const possible of schema.getPossibleTypes(parent)) coordinates.add(`${possible.name}.${name}`);
          } else {
            coordinates.add(`${parent.name}.${name}`);
          }
        },
        FragmentSpread(spread) {
          const name = spread.name.value;
          const fragment = fragments.get(name);
          if (fragment && !visitedFragments.has(name)) {
            visitedFragments.add(name);
            pending.push(fragment);
          }
        },
      }),
    );
  }
  const { requires } = options;
  const unexpanded = requires ? [...coordinates] : [];
  for (let coordinate = unexpanded.pop(); coordinate !== undefined; coordinate = unexpanded.pop()) {
    for (const required of requires?.get(coordinate) ?? []) {
      if (coordinates.has(required)) continue;
      coordinates.add(required);
      unexpanded.push(required);
    }
  }
  return coordinates;
}
