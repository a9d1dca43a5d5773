import { Kind, visit, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionNode } from 'graphql';
import { addSubjectMarkers, usesReservedAlias } from '../audit/subjectMarkers.js';
import { createResponseReader, type ResponseReader } from '../audit/collectAccessedFields.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import { collectFieldCoordinates } from '../policy/collectFieldCoordinates.js';
import { operationDefinitions } from '../policy/operationDefinitions.js';
import { personnummerInputSites, type PersonnummerInputSites } from './personnummerInputs.js';

/**
 * What the gateway's checks and its access log need to know about an operation that depends on
 * the schema and the document alone, worked out once per parsed document. Apollo Server hands out
 * the same parsed and validated DocumentNode for repeated query text (its document store), and
 * trusted documents repeat by design, so in steady state no request walks its document for these.
 * What depends on the request (its variables) is read per request, in ResolvedOperation.
 */
export interface OperationAnalysis {
  /** Whether the document uses an alias or field name reserved for the access log's markers. */
  readonly usesReservedAlias: boolean;
  /** Every field coordinate the operation may request: what the purpose check judges. */
  readonly coordinates: ReadonlySet<string>;
  /** The fields that take personnummer, whose coerced arguments each request checks. */
  readonly personnummerInputs: PersonnummerInputSites;
  /** Selections carrying @skip or @include in the operation and the fragments it reaches, whose conditions each request evaluates. */
  readonly conditionalSelections: readonly SelectionNode[];
  /** The document with the access log's subject markers, built when first executed (a refused operation never is). */
  markedDocument(): DocumentNode;
  /** How the access log reads a response to this operation (one reader for every request). */
  reader(): ResponseReader;
}

export type OperationAnalyser = (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) => OperationAnalysis;

/**
 * One analyser per gateway (its catalogue says which types are subjects and which fields are
 * personal). Entries are keyed by the operation node, so they go when Apollo Server drops the
 * document; the schema is compared too, as a schema update re-validates documents against it.
 */
export function createOperationAnalyser(options: { readonly catalogue: PersonalFieldCatalogue }): OperationAnalyser {
  const { catalogue } = options;
  const analyses = new WeakMap<OperationDefinitionNode, { readonly schema: GraphQLSchema; readonly document: DocumentNode; readonly analysis: OperationAnalysis }>();
  return (schema, document, operation) => {
    const cached = analyses.get(operation);
    if (cached && cached.schema === schema && cached.document === document) return cached.analysis;
    let marked: DocumentNode | undefined;
    let reader: ResponseReader | undefined;
    const analysis: OperationAnalysis = {
      usesReservedAlias: usesReservedAlias(document),
      // What a selected field's @requires makes the plan fetch is reached too: judged like a selection.
      coordinates: collectFieldCoordinates(schema, document, operation, { requires: catalogue.requires }),
      personnummerInputs: personnummerInputSites(schema, document, operation),
      conditionalSelections: conditionalSelections(document, operation),
      markedDocument: () => (marked ??= addSubjectMarkers(schema, document, catalogue.subjectTypes)),
      reader: () => (reader ??= createResponseReader(schema, document, operation, catalogue)),
    };
    analyses.set(operation, { schema, document, analysis });
    return analysis;
  };
}

function conditionalSelections(document: DocumentNode, operation: OperationDefinitionNode): SelectionNode[] {
  const found: SelectionNode[] = [];
  const visitor = {
    enter(node: { readonly kind: Kind; readonly directives?: readonly { readonly name: { readonly value: string } }[] }) {
      if (node.kind !== Kind.FIELD && node.kind !== Kind.FRAGMENT_SPREAD && node.kind !== Kind.INLINE_FRAGMENT) return;
      if (node.directives?.some((d) => d.name.value === 'skip' || d.name.value === 'include')) found.push(node as SelectionNode);
    },
  };
  for (const definition of operationDefinitions(document, operation)) visit(definition, visitor);
  return found;
}
