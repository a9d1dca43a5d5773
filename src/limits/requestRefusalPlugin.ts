import type { ApolloServerPlugin } from '@apollo/server';
import { Lexer, NoSchemaIntrospectionCustomRule, Source, TokenKind, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { GatewayError } from '../errors/index.js';
import type { GatewayContext } from '../gateway/gatewayContext.js';

export interface RequestRefusalOptions {
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
 * Gives two refusals that Apollo Server makes its own code: a document over the token limit
 * (graphql-js stops parsing it, Apollo answers GRAPHQL_PARSE_FAILED) becomes DOCUMENT_TOO_LARGE,
 * and introspection outside development mode (Apollo's validation rule answers
 * GRAPHQL_VALIDATION_FAILED) becomes INTROSPECTION_DISABLED. Apollo stays the gate; this only
 * recognises the cause from the document itself, never from message text, so a partner can
 * switch on the code. It must be the first plugin: the response it replaces still gets the
 * request id from the plugins after it.
 */
export function requestRefusalPlugin(options: RequestRefusalOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      let refusal: GatewayError | undefined;
      return {
        async parsingDidStart({ source }) {
          return async (error) => {
            if (error && typeof source === 'string' && exceedsTokenLimit(source, options.maxTokens)) {
              refusal = new GatewayError('DOCUMENT_TOO_LARGE', `The document has more than ${options.maxTokens} tokens.`, { limit: options.maxTokens });
            }
          };
        },
        async validationDidStart({ schema, document }) {
          if (options.introspection) return;
          return async (errors) => {
            if (errors && errors.length > 0 && usesIntrospection(schema, document)) {
              refusal = new GatewayError('INTROSPECTION_DISABLED', 'Schema introspection is disabled; the API schema is published with the gateway (schema/api.graphql).');
            }
          };
        },
        async willSendResponse({ response }) {
          if (!refusal) return;
          const extensions = response.body.kind === 'single' ? response.body.singleResult.extensions : undefined;
          response.body = { kind: 'single', singleResult: { errors: [refusal.toFormatted()], ...(extensions ? { extensions } : {}) } };
          response.http.status = refusal.httpStatus;
        },
      };
    },
  };
}
