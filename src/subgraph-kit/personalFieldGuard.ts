import { defaultFieldResolver, getNamedType, isObjectType, Kind, type ConstDirectiveNode, type GraphQLFieldMap, type GraphQLSchema, type GraphQLFieldResolver } from 'graphql';
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
export function guardPersonalFields<TLoaders>(schema: GraphQLSchema, options: GuardOptions<TLoaders>): number {
  let guarded = 0;
  const undeclared: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('_')) continue;
    const keyField = subjectKeyOf(type.astNode?.directives ?? [], type.getFields());
    if (!keyField) continue;
    const keyFields = keyFieldNamesOf(type.astNode?.directives ?? []);
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
      const external = (field.astNode?.directives ?? []).some((d) => d.name.value === 'external' || d.name.value === 'federation__external');
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

function keyFieldNamesOf(directives: readonly ConstDirectiveNode[]): Set<string> {
  const names = new Set<string>();
  for (const directive of directives) {
    const arg = directive.name.value === 'key' ? directive.arguments?.find((a) => a.name.value === 'fields') : undefined;
    if (arg?.value.kind === Kind.STRING) for (const name of arg.value.value.split(/[\s{}]+/)) if (name) names.add(name);
  }
  return names;
}

function subjectKeyOf(directives: readonly ConstDirectiveNode[], fields: GraphQLFieldMap<unknown, unknown>): string | undefined {
  for (const directive of directives) {
    if (directive.name.value !== 'key') continue;
    const arg = directive.arguments?.find((a) => a.name.value === 'fields');
    if (arg?.value.kind !== Kind.STRING) continue;
    for (const name of String(arg.value.value).split(/\s+/)) {
      const field = fields[name];
      if (field && getNamedType(field.type).name === 'Personnummer') return name;
    }
  }
  return undefined;
}
