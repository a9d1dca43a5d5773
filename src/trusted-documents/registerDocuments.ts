import { Kind, parse, validate, visit, type DefinitionNode, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { checkOperation } from '../policy/checkOperation.js';
import { collectFieldCoordinates } from '../policy/collectFieldCoordinates.js';
import type { Agreement } from '../policy/agreements.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import type { Purpose } from '../policy/purposes.js';
import { documentId, normalizeDocument } from './documentId.js';
import type { TrustedDocument, TrustedDocumentManifest } from './manifest.js';

/** One operation with the fragments it uses: the unit codegen hashes and the gateway executes. */
export interface CandidateDocument {
  readonly operationName: string | null;
  readonly document: DocumentNode;
  /** Where it came from, for messages. */
  readonly source: string;
}

/** Why a document cannot be registered: GraphQL validation, or a field the purpose check refuses. */
export type RegistrationProblem =
  | { readonly kind: 'INVALID_DOCUMENT'; readonly message: string }
  | {
      readonly kind: 'FIELD_DENIED';
      readonly field: string;
      readonly code: 'PURPOSE_NOT_ALLOWED' | 'NO_AGREEMENT';
      readonly reason: string;
      readonly owner: string;
      readonly category: string;
    };

export class DocumentRegistrationError extends Error {
  constructor(readonly refused: ReadonlyArray<{ readonly candidate: CandidateDocument; readonly problems: readonly RegistrationProblem[] }>) {
    super(`Not registered: ${refused.map(({ candidate, problems }) => `${candidate.operationName ?? '(anonymous)'} (${candidate.source}): ${problems.map(describeProblem).join('; ')}`).join(' | ')}`);
    this.name = 'DocumentRegistrationError';
  }
}

export function describeProblem(problem: RegistrationProblem): string {
  return problem.kind === 'INVALID_DOCUMENT' ? problem.message : `${problem.field} ${problem.code} (${problem.reason})`;
}

/**
 * Splits GraphQL source text into one document per operation, each with the fragments it spreads,
 * as graphql-codegen's client preset does, so the ids match its persisted-documents.json.
 */
export function documentsFromSource(text: string, source: string): CandidateDocument[] {
  const parsed = parse(text);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of parsed.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return parsed.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => {
      const used = new Map<string, FragmentDefinitionNode>();
      const pending: DefinitionNode[] = [operation];
      while (pending.length > 0) {
        visit(pending.pop()!, {
          FragmentSpread(spread) {
            const fragment = fragments.get(spread.name.value);
            if (fragment && !used.has(fragment.name.value)) {
              used.set(fragment.name.value, fragment);
              pending.push(fragment);
            }
          },
        });
      }
      return { operationName: operation.name?.value ?? null, document: { kind: Kind.DOCUMENT, definitions: [operation, ...used.values()] }, source };
    });
}

/** codegen's persisted-documents.json: `{ "sha256:…": "document text" }`. */
export function documentsFromPersistedDocuments(json: unknown, source: string): CandidateDocument[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TypeError(`${source}: expected an object of hash → document text`);
  return Object.entries(json).flatMap(([id, text]) => {
    if (typeof text !== 'string') throw new TypeError(`${source}: ${id} is not document text`);
    return documentsFromSource(text, `${source} ${id}`);
  });
}

export interface RegistrationPolicy {
  /** The API schema partners query (the gateway's schema). */
  readonly schema: GraphQLSchema;
  readonly catalogue: PersonalFieldCatalogue;
  readonly agreements: readonly Agreement[];
  /** ISO date agreements are judged on. */
  readonly today: string;
}

/**
 * The checks a document must pass before it is trusted: it is valid against the API schema, and
 * every personal field it may request passes the purpose check for this agency and purpose: the
 * same check the gateway runs per request (src/policy/checkOperation.ts). Registration does not
 * replace that check; it keeps operations no agreement allows out of production altogether.
 */
export function registrationProblems(policy: RegistrationPolicy, agency: string, purpose: Purpose, candidate: CandidateDocument): RegistrationProblem[] {
  const invalid = validate(policy.schema, candidate.document);
  if (invalid.length > 0) return invalid.map((error) => ({ kind: 'INVALID_DOCUMENT', message: error.message }));
  const operation = candidate.document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation) return [{ kind: 'INVALID_DOCUMENT', message: 'no operation' }];
  return checkOperation({
    catalogue: policy.catalogue,
    agreements: policy.agreements,
    clientAgency: agency,
    purpose,
    coordinates: collectFieldCoordinates(policy.schema, candidate.document, operation),
    today: policy.today,
  }).flatMap((decision): RegistrationProblem[] =>
    decision.outcome === 'allowed'
      ? []
      : [{ kind: 'FIELD_DENIED', field: decision.field.coordinate, code: decision.code, reason: decision.reason, owner: decision.field.owner, category: decision.field.category }],
  );
}

/**
 * Adds the candidates to the agency's manifest for the purpose, all or none: if any candidate
 * fails a check, nothing is registered and the error lists every problem.
 */
export function registerDocuments(
  policy: RegistrationPolicy,
  manifest: TrustedDocumentManifest,
  purpose: Purpose,
  candidates: readonly CandidateDocument[],
): { manifest: TrustedDocumentManifest; registered: TrustedDocument[] } {
  const refused = candidates.map((candidate) => ({ candidate, problems: registrationProblems(policy, manifest.agency, purpose, candidate) })).filter((r) => r.problems.length > 0);
  if (refused.length > 0) throw new DocumentRegistrationError(refused);
  const byId = new Map(manifest.documents.map((d) => [d.id, d]));
  const registered = candidates.map((candidate): TrustedDocument => {
    const id = documentId(candidate.document);
    const existing = byId.get(id);
    const entry: TrustedDocument = {
      id,
      operationName: candidate.operationName,
      purposes: [...new Set([...(existing?.purposes ?? []), purpose])].sort(),
      document: normalizeDocument(candidate.document),
      registeredOn: policy.today,
    };
    byId.set(id, entry);
    return entry;
  });
  return { manifest: { agency: manifest.agency, documents: [...byId.values()] }, registered };
}
