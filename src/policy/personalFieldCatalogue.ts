import {
  Kind,
  parse,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';
import { CATEGORIES, PURPOSES, type PersonalDataCategory, type Purpose } from './purposes.js';

/** One field's declaration by its owning agency, read from the supergraph. */
export interface PersonalFieldDeclaration {
  /** `Type.field`. */
  readonly coordinate: string;
  readonly typeName: string;
  readonly fieldName: string;
  readonly category: PersonalDataCategory;
  readonly purposes: ReadonlySet<Purpose>;
  /** Subgraph (agency id) that resolves the field, from `@join__field`/`@join__type`. */
  readonly owner: string;
}

export interface PersonalFieldCatalogue {
  readonly fields: ReadonlyMap<string, PersonalFieldDeclaration>;
  /** Types whose objects are data subjects: entities keyed by a Personnummer. */
  readonly subjectTypes: ReadonlyMap<string, { readonly keyField: string }>;
  fieldsOfType(typeName: string): readonly PersonalFieldDeclaration[];
}

export class UndeclaredPersonalFieldError extends Error {
  constructor(readonly coordinates: readonly string[]) {
    super(
      `Personal data must be declared: ${coordinates.join(', ')} ${coordinates.length === 1 ? 'has' : 'have'} no @personal(category:, purposes:) ` +
        'although ' + (coordinates.length === 1 ? 'it is a field' : 'they are fields') +
        ' of a data subject (an entity keyed by Personnummer). Declare it in the owning subgraph\'s SDL.',
    );
    this.name = 'UndeclaredPersonalFieldError';
  }
}

const PERSONNUMMER = 'Personnummer';

/**
 * Reads every @personal declaration from a supergraph, with the owning subgraph of each field.
 *
 * Personal by default: every field of a data-subject type other than its key must be declared.
 * A missing declaration is an error here, so neither composition nor gateway start-up can put an
 * undeclared personal field in front of partners.
 */
export function readPersonalFieldCatalogue(supergraph: string | DocumentNode): PersonalFieldCatalogue {
  const document = typeof supergraph === 'string' ? parse(supergraph) : supergraph;
  const graphNames = new Map<string, string>();
  const objectNodes = new Map<string, Array<ObjectTypeDefinitionNode | ObjectTypeExtensionNode>>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph') {
      for (const value of definition.values ?? []) {
        const name = stringArg(findDirective(value.directives, 'join__graph'), 'name');
        if (name) graphNames.set(value.name.value, name);
      }
    }
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const list = objectNodes.get(definition.name.value) ?? [];
      list.push(definition);
      objectNodes.set(definition.name.value, list);
    }
  }

  const fields = new Map<string, PersonalFieldDeclaration>();
  const subjectTypes = new Map<string, { keyField: string }>();
  const undeclared: string[] = [];

  for (const [typeName, nodes] of objectNodes) {
    const typeDirectives = nodes.flatMap((n) => n.directives ?? []);
    const joinTypes = typeDirectives.filter((d) => d.name.value === 'join__type');
    const allFields = nodes.flatMap((n) => n.fields ?? []);
    const keyFields = new Set(joinTypes.map((d) => stringArg(d, 'key')).filter((k): k is string => !!k).flatMap((k) => k.split(/\s+/)));
    const subjectKey = [...keyFields].find((k) => {
      const field = allFields.find((f) => f.name.value === k);
      return field !== undefined && namedTypeOf(field) === PERSONNUMMER;
    });
    if (subjectKey) subjectTypes.set(typeName, { keyField: subjectKey });

    for (const field of allFields) {
      const coordinate = `${typeName}.${field.name.value}`;
      const personal = findDirective(field.directives, 'personal');
      if (!personal) {
        if (subjectKey && !keyFields.has(field.name.value)) undeclared.push(coordinate);
        continue;
      }
      const category = enumArg(personal, 'category');
      const purposes = enumListArg(personal, 'purposes');
      if (!category || !(CATEGORIES as readonly string[]).includes(category)) {
        throw new Error(`${coordinate}: @personal(category:) must be one of ${CATEGORIES.join(', ')}.`);
      }
      const unknownPurpose = purposes.find((p) => !(PURPOSES as readonly string[]).includes(p));
      if (unknownPurpose !== undefined) throw new Error(`${coordinate}: @personal(purposes:) has an unknown purpose ${unknownPurpose}.`);
      const owner = ownerOf(field, joinTypes, graphNames);
      if (!owner) throw new Error(`${coordinate}: cannot tell which subgraph owns it (no @join__field graph).`);
      fields.set(coordinate, {
        coordinate,
        typeName,
        fieldName: field.name.value,
        category: category as PersonalDataCategory,
        purposes: new Set(purposes as Purpose[]),
        owner,
      });
    }
  }
  if (undeclared.length > 0) throw new UndeclaredPersonalFieldError(undeclared.sort());

  const byType = new Map<string, PersonalFieldDeclaration[]>();
  for (const declaration of fields.values()) {
    const list = byType.get(declaration.typeName) ?? [];
    list.push(declaration);
    byType.set(declaration.typeName, list);
  }
  return { fields, subjectTypes, fieldsOfType: (typeName) => byType.get(typeName) ?? [] };
}

function ownerOf(field: FieldDefinitionNode, joinTypes: readonly ConstDirectiveNode[], graphNames: ReadonlyMap<string, string>): string | undefined {
  const joinField = (field.directives ?? []).find((d) => d.name.value === 'join__field' && enumArg(d, 'graph') && !booleanArg(d, 'external'));
  const graph = joinField ? enumArg(joinField, 'graph') : joinTypes.length === 1 ? enumArg(joinTypes[0]!, 'graph') : undefined;
  return graph ? graphNames.get(graph) : undefined;
}

function namedTypeOf(field: FieldDefinitionNode): string {
  let type = field.type;
  while (type.kind !== Kind.NAMED_TYPE) type = type.type;
  return type.name.value;
}

function findDirective(directives: readonly ConstDirectiveNode[] | undefined, name: string): ConstDirectiveNode | undefined {
  return directives?.find((d) => d.name.value === name);
}

function argument(directive: ConstDirectiveNode | undefined, name: string) {
  return directive?.arguments?.find((a) => a.name.value === name)?.value;
}

function stringArg(directive: ConstDirectiveNode | undefined, name: string): string | undefined {
  const value = argument(directive, name);
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function enumArg(directive: ConstDirectiveNode | undefined, name: string): string | undefined {
  const value = argument(directive, name);
  return value?.kind === Kind.ENUM ? value.value : undefined;
}

function booleanArg(directive: ConstDirectiveNode | undefined, name: string): boolean {
  const value = argument(directive, name);
  return value?.kind === Kind.BOOLEAN && value.value;
}

function enumListArg(directive: ConstDirectiveNode | undefined, name: string): string[] {
  const value = argument(directive, name);
  if (value?.kind === Kind.LIST) return value.values.flatMap((v) => (v.kind === Kind.ENUM ? [v.value] : []));
  if (value?.kind === Kind.ENUM) return [value.value];
  return [];
}
