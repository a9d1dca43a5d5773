import { buildSubgraph } from '@apollo/federation-internals';
import { defaultFieldResolver, getNamedType, isObjectType, Kind, parse, type DocumentNode, type GraphQLSchema, type GraphQLFieldResolver, type OperationDefinitionNode } from 'graphql';
import { GatewayError } from '../errors/index.js';
import { UndeclaredPersonalFieldError } from '../policy/personalFieldCatalogue.js';
import type { SubgraphContext } from './types.js';
import { covers, isInForce, type Agreement } from '../policy/agreements.js';
import type { PersonalDataCategory } from '../policy/purposes.js';
import { readPersonalDeclaration } from '../policy/personalDeclaration.js';
import { withheldForProtectedIdentity } from '../policy/protectedIdentity.js';

export interface GuardOptions<TLoaders> {
  /** This subgraph's agency id: the owner agreements name. */
  readonly owner: string;
  /** Development without identity: no caller, nothing is checked. Never with personal data. */
  readonly allowAnonymous: boolean;
  /** The agency's own agreements, checked besides what the gateway signed (see SubgraphServerOptions), and the day they are judged on. */
  readonly ownAgreements?: { readonly list: () => readonly Agreement[]; readonly today: () => string };
  readonly isProtectedIdentity?: (subject: string, loaders: TLoaders) => Promise<boolean>;
}

/**
 * Wraps every @personal field of a data-subject type (an entity keyed by Personnummer) so that,
 * however the subgraph reaches a person (root field, entity reference, its own relations such as
 * household), the field resolves only for subjects of the caller's case, for a declared purpose,
 * only when an agreement lets the caller receive the field's category from this agency for that
 * purpose (as the gateway signed it, and, given the agency's own agreements, as they say too),
 * and, for address/contact data of a person with protected identity, only when an agreement
 * allows it. Enforcing it here, at resolution, is what makes a subgraph's own relations safe:
 * the gateway cannot know whom a nested relation will return before it is resolved.
 */
export function guardPersonalFields<TLoaders>(schema: GraphQLSchema, typeDefs: DocumentNode, options: GuardOptions<TLoaders>): number {
  let guarded = 0;
  const undeclared: string[] = [];
  const federation = federationFacts(options.owner, typeDefs);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('_')) continue;
    const keyNames = (federation.keys.get(type.name) ?? []).flat();
    // The first key naming a Personnummer field makes the type a data subject's.
    const keyField = keyNames.find((name) => {
      const field = type.getFields()[name];
      return field !== undefined && getNamedType(field.type).name === 'Personnummer';
    });
    if (!keyField) continue;
    const keyFields = new Set(keyNames);
    for (const field of Object.values(type.getFields())) {
      // The gateway's reader: a declaration the catalogue would refuse stops this subgraph's start too.
      const declaration = readPersonalDeclaration(`${type.name}.${field.name}`, field.astNode?.directives);
      if (!declaration) {
        // Personal by default here too: a field this subgraph resolves without its own declaration
        // (one it serves through @provides, a @shareable one another subgraph declares) could not
        // be guarded, while the supergraph carries the owner's declaration and the gateway trusts it.
        if (!keyFields.has(field.name)) undeclared.push(`${type.name}.${field.name}`);
        continue;
      }
      const resolve: GraphQLFieldResolver<unknown, SubgraphContext<TLoaders>> = field.resolve ?? defaultFieldResolver;
      const coordinate = `${type.name}.${field.name}`;
      const external = federation.external.has(coordinate);
      field.resolve = async (parent, args, context, info) => {
        const caller = context.caller;
        if (!caller) {
          if (options.allowAnonymous) return resolve(parent, args, context, info);
          throw new GatewayError('GATEWAY_CONTEXT_INVALID', 'No verified caller context.');
        }
        const subject = (parent as Record<string, unknown>)[keyField];
        if (typeof subject !== 'string' || !caller.subjects.includes(subject)) {
          throw GatewayError.field('SUBJECT_NOT_IN_CASE', `${coordinate} is withheld: the person is not a subject of the case.`, {
            field: coordinate,
            caseId: caller.caseId,
          });
        }
        if (!declaration.purposes.has(caller.purpose)) {
          throw GatewayError.field('PURPOSE_NOT_ALLOWED', `${coordinate} may not be disclosed for purpose ${caller.purpose}.`, {
            field: coordinate,
            purpose: caller.purpose,
          });
        }
        const category = declaration.category;
        // A value this subgraph serves for another owner (@external, through @provides) is that
        // owner's: the agreement is with them, as the gateway judged it; its own are checked here too.
        const allowed = external
          ? context.provided.has(coordinate)
          : context.categories.has(category) && (!options.ownAgreements || agreementAllows(options.ownAgreements, options.owner, caller.agency.id, category, caller.purpose));
        if (!allowed) {
          throw GatewayError.field('NO_AGREEMENT', `${coordinate} is withheld: no agreement in force lets the caller receive ${category} data from ${options.owner} for purpose ${caller.purpose}.`, {
            field: coordinate,
            purpose: caller.purpose,
            owner: options.owner,
            category,
          });
        }
        const lookUp = options.isProtectedIdentity;
        if (await withheldForProtectedIdentity({ category, protectedIdentityAccess: context.protectedIdentityAccess, subjectIsProtected: lookUp && (() => lookUp(subject, context.loaders)) })) {
          throw GatewayError.field('PROTECTED_IDENTITY', `${coordinate} is withheld: the person has protected identity.`, {
            field: coordinate,
          });
        }
        return resolve(parent, args, context, info);
      };
      guarded++;
    }
  }
  if (undeclared.length > 0) throw new UndeclaredPersonalFieldError(undeclared.sort());
  return guarded;
}

function agreementAllows(
  own: NonNullable<GuardOptions<unknown>['ownAgreements']>,
  owner: string,
  client: string,
  category: PersonalDataCategory,
  purpose: Parameters<typeof covers>[1]['purpose'],
): boolean {
  const today = own.today();
  return own.list().some((a) => isInForce(a, today) && covers(a, { client, owner, category, purpose }));
}

/**
 * Each object type's @key field sets (their top-level fields) and the @external fields, as Apollo
 * Federation itself reads the subgraph's SDL (buildSubgraph, as composition does): on a type
 * extension as on its definition, under a name @link imported with `as`, or namespaced
 * (`federation__key`). Read by hand from `astNode.directives`, a key written on `extend type`
 * left every @personal field of the type unguarded.
 */
function federationFacts(name: string, typeDefs: DocumentNode): { readonly keys: ReadonlyMap<string, ReadonlyArray<readonly string[]>>; readonly external: ReadonlySet<string> } {
  const subgraph = buildSubgraph(name, `https://${name}.invalid/graphql`, typeDefs);
  const metadata = subgraph.metadata();
  const keyDirective = metadata.keyDirective();
  const keys = new Map<string, string[][]>();
  const external = new Set<string>();
  for (const type of subgraph.schema.objectTypes()) {
    keys.set(
      type.name,
      type.appliedDirectivesOf(keyDirective).map((application) => topLevelFields(String(application.arguments().fields))),
    );
    for (const field of type.fields()) if (metadata.isFieldExternal(field)) external.add(`${type.name}.${field.name}`);
  }
  return { keys, external };
}

/** The top-level field names of a field set (`personnummer`, `id organisation { id }`), read by graphql-js's parser. */
function topLevelFields(fieldSet: string): string[] {
  const operation = parse(`{${fieldSet}}`, { noLocation: true }).definitions[0] as OperationDefinitionNode;
  return operation.selectionSet.selections.flatMap((selection) => (selection.kind === Kind.FIELD ? [selection.name.value] : []));
}
