import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { addSubjectMarkers, usesReservedAlias } from '../audit/subjectMarkers.js';
import { hasConditionalSelections, planAccess, type AccessPlan } from '../audit/collectAccessedFields.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import { collectFieldCoordinates } from '../policy/collectFieldCoordinates.js';
import { personnummerInputSites, type PersonnummerInputSites } from './inputValidation/personnummerInputs.js';

/**
 * What the gateway's checks and its access log need to know about an operation that depends on
 * the schema and the document alone. Each used to walk the document on every request; now it is
 * worked out once per parsed document. Apollo Server hands out the same parsed and validated
 * DocumentNode for repeated query text (its document store), and trusted documents repeat by
 * design, so in steady state no request walks its document for these.
 */
export interface OperationAnalysis {
  /** Whether the document uses an alias or field name reserved for the access log's markers. */
  readonly usesReservedAlias: boolean;
  /** Every field coordinate the operation may request: what the purpose check judges. */
  readonly coordinates: ReadonlySet<string>;
  /** Where the operation takes personnummer, checked against each request's variables. */
  readonly personnummerInputs: PersonnummerInputSites;
  /** The document with the access log's subject markers, built when first executed (a refused operation never is). */
  markedDocument(): DocumentNode;
  /** How the access log reads a response: one plan for every request, unless @skip/@include make it depend on the variables. */
  accessPlan(variables: Readonly<Record<string, unknown>>): AccessPlan;
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
    let sharedPlan: AccessPlan | undefined;
    const conditional = hasConditionalSelections(document);
    const analysis: OperationAnalysis = {
      usesReservedAlias: usesReservedAlias(document),
      coordinates: collectFieldCoordinates(schema, document, operation),
      personnummerInputs: personnummerInputSites(schema, operation),
      markedDocument: () => (marked ??= addSubjectMarkers(schema, document, catalogue.subjectTypes)),
      accessPlan: (variables) =>
        conditional ? planAccess({ schema, document, operation, variables, catalogue }) : (sharedPlan ??= planAccess({ schema, document, operation, variables: {}, catalogue })),
    };
    analyses.set(operation, { schema, document, analysis });
    return analysis;
  };
}
