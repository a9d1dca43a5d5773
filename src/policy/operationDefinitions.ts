import { Kind, separateOperations, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';

/**
 * The operation and the fragments it reaches, transitively, in document order: what executing
 * it can touch, as graphql-js's own separateOperations reads the document. A fragment only
 * another operation of the same document spreads is not among them: checks and limits that
 * walked it would refuse (and log denials about persons) for what this request never asks.
 *
 * Where the document does not let that reading name the operation (two operations of one name,
 * which validation refuses before this), every fragment is included: stricter, never looser.
 */
export function operationDefinitions(document: DocumentNode, operation: OperationDefinitionNode): ReadonlyArray<OperationDefinitionNode | FragmentDefinitionNode> {
  const separated = separateOperations(document)[operation.name?.value ?? ''];
  const definitions = separated?.definitions.includes(operation) ? separated.definitions : document.definitions;
  return definitions.filter((d): d is OperationDefinitionNode | FragmentDefinitionNode => d === operation || d.kind === Kind.FRAGMENT_DEFINITION);
}
