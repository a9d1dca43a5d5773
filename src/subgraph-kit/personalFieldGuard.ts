import { defaultFieldResolver, getNamedType, isObjectType, Kind, type ConstDirectiveNode, type GraphQLFieldMap, type GraphQLSchema, type GraphQLFieldResolver } from 'graphql';
import { GatewayError } from '../errors/index.js';
import type { SubgraphContext } from './types.js';

interface PersonalDirective {
  readonly category: string;
  readonly purposes: ReadonlySet<string>;
}

export interface GuardOptions<TLoaders> {
  /** Development without identity: no caller, nothing is checked. Never with personal data. */
  readonly allowAnonymous: boolean;
  readonly isProtectedIdentity?: (subject: string, loaders: TLoaders) => Promise<boolean>;
}

/**
 * Wraps every @personal field of a data-subject type (an entity keyed by Personnummer) so that,
 * however the subgraph reaches a person (root field, entity reference, its own relations such as
 * household), the field resolves only for subjects of the caller's case, for a declared purpose,
 * and, for address/contact data of a person with protected identity, only when an agreement
 * allows it. Enforcing it here, at resolution, is what makes a subgraph's own relations safe:
 * the gateway cannot know whom a nested relation will return before it is resolved.
 */
export function guardPersonalFields<TLoaders>(schema: GraphQLSchema, options: GuardOptions<TLoaders>): number {
  let guarded = 0;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('_')) continue;
    const keyField = subjectKeyOf(type.astNode?.directives ?? [], type.getFields());
    if (!keyField) continue;
    for (const field of Object.values(type.getFields())) {
      const declaration = personalDirectiveOf(field.astNode?.directives ?? []);
      if (!declaration) continue;
      const resolve: GraphQLFieldResolver<unknown, SubgraphContext<TLoaders>> = field.resolve ?? defaultFieldResolver;
      const coordinate = `${type.name}.${field.name}`;
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
        if (declaration.category === 'ADDRESS_CONTACT' && !context.protectedIdentityAccess) {
          const isProtected = options.isProtectedIdentity ? await options.isProtectedIdentity(subject, context.loaders) : true;
          if (isProtected) {
            throw GatewayError.field('PROTECTED_IDENTITY', `${coordinate} is withheld: the person has protected identity.`, {
              field: coordinate,
            });
          }
        }
        return resolve(parent, args, context, info);
      };
      guarded++;
    }
  }
  return guarded;
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

function personalDirectiveOf(directives: readonly ConstDirectiveNode[]): PersonalDirective | undefined {
  const directive = directives.find((d) => d.name.value === 'personal');
  if (!directive) return undefined;
  let category = '';
  const purposes = new Set<string>();
  for (const arg of directive.arguments ?? []) {
    const value = arg.value;
    if (arg.name.value === 'category' && value.kind === Kind.ENUM) category = value.value;
    if (arg.name.value === 'purposes') {
      for (const item of value.kind === Kind.LIST ? value.values : [value]) if (item.kind === Kind.ENUM) purposes.add(item.value);
    }
  }
  return { category, purposes };
}
