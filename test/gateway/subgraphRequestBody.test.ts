import { describe, expect, it } from 'vitest';
import { requestBodyJson } from '../../src/apollo/agencyDataSource.js';

/**
 * A subgraph call's body is assembled from the variables serialised once (the context token's
 * request hash uses the same text) and the fetch document escaped once: it must be the very body
 * RemoteGraphQLDataSource sends, `JSON.stringify({ query, variables, operationName })`.
 */
describe('a subgraph call’s body', () => {
  const query = 'query Fetch($r: [_Any!]!) {\n  _entities(representations: $r) { ... on Person { name { givenName } } }\n}';
  const forms: { readonly name: string; readonly variables?: Record<string, unknown> | null; readonly operationName?: string | null }[] = [
    { name: 'variables and an operation name', variables: { r: [{ __typename: 'Person', personnummer: '199001012380' }] }, operationName: 'Fetch' },
    { name: 'text that JSON escapes', variables: { r: [{ text: 'Å "quoted" \\ \u2028 \u0001' }], dropped: undefined }, operationName: 'Fetch"1' },
    { name: 'null variables and operation name', variables: null, operationName: null },
    { name: 'neither' },
  ];
  it.each(forms)('is JSON.stringify of the request: $name', ({ variables, operationName }) => {
    const variablesJson = variables === undefined ? undefined : JSON.stringify(variables);
    // The same document twice: the second time its escaped form is remembered.
    for (let i = 0; i < 2; i++) expect(requestBodyJson(query, variablesJson, operationName)).toBe(JSON.stringify({ query, variables, operationName }));
  });
});
