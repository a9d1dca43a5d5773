import { Lexer, NoSchemaIntrospectionCustomRule, Source, TokenKind, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { GatewayError } from '../errors/index.js';

export interface DocumentRefusalOptions {
  /** The parser's `maxTokens` (Apollo's `parseOptions`): the gateway refuses longer documents. */
  readonly maxTokens: number;
  /** Whether schema introspection is allowed (development mode only). */
  readonly introspection: boolean;
}

/** True when `source` has more than `max` lexical tokens; counts like graphql-js's parser and stops at max + 1. */
export function exceedsTokenLimit(source: string, max: number): boolean {
  const lexer = new Lexer(new Source(source));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) if (++count > max) return true;
  } catch {
    // A lexical error before the limit: an ordinary syntax error, not a long document.
  }
  return false;
}

export function usesIntrospection(schema: GraphQLSchema, document: DocumentNode): boolean {
  return validate(schema, document, [NoSchemaIntrospectionCustomRule]).length > 0;
}

/**
 * Two refusals Apollo Server makes with its own code get ours: a document over the token limit
 * (graphql-js stops parsing it, Apollo answers GRAPHQL_PARSE_FAILED) becomes DOCUMENT_TOO_LARGE,
 * and introspection outside development mode (Apollo's validation rule answers
 * GRAPHQL_VALIDATION_FAILED) becomes INTROSPECTION_DISABLED. Apollo stays the gate; these only
 * recognise the cause from the document itself, never from message text, so a partner can
 * switch on the code.
 */
export const documentRefusal = {
  /** After parsing failed: the refusal when the document is over the token limit. */
  whenParseFailed(source: string | undefined, options: DocumentRefusalOptions): GatewayError | undefined {
    if (typeof source !== 'string' || !exceedsTokenLimit(source, options.maxTokens)) return undefined;
    return new GatewayError('DOCUMENT_TOO_LARGE', `The document has more than ${options.maxTokens} tokens.`, { limit: options.maxTokens });
  },
  /** After validation failed: the refusal when the document introspects where introspection is off. */
  whenInvalid(schema: GraphQLSchema, document: DocumentNode, options: DocumentRefusalOptions): GatewayError | undefined {
    if (options.introspection || !usesIntrospection(schema, document)) return undefined;
    return new GatewayError('INTROSPECTION_DISABLED', 'Schema introspection is disabled; the API schema is published with the gateway (schema/api.graphql).');
  },
};
