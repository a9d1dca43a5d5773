import { isAbstractType, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { operationDefinitions } from './operationDefinitions.js';

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
  const coordinates = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  const visitor = visitWithTypeInfo(typeInfo, {
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
  });
  // Each fragment the operation reaches is walked once, on its own type condition.
  for (const definition of operationDefinitions(document, operation)) visit(definition, visitor);
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
