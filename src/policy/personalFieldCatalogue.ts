import {
  Kind,
  parse,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InterfaceTypeDefinitionNode,
  type InterfaceTypeExtensionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { PersonalDataCategory, Purpose } from './purposes.js';
import { readPersonalDeclaration } from './personalDeclaration.js';

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
  /** Other subgraphs that serve the owner's values of it through `@provides` (`@join__field(external: true)`). */
  readonly providers: ReadonlySet<string>;
}

export interface PersonalFieldCatalogue {
  /**
   * By coordinate, on object types and on interfaces: an interface field's declaration is its
   * owner's (an entity interface, or an `@interfaceObject` subgraph's), and each implementation
   * carries its own, which is what a response and the access log name.
   */
  readonly fields: ReadonlyMap<string, PersonalFieldDeclaration>;
  /** Types whose objects are data subjects: entities keyed by a Personnummer, entity interfaces included. */
  readonly subjectTypes: ReadonlyMap<string, { readonly keyField: string }>;
  /**
   * Coordinates a field's resolution fetches first (`@requires`, and the selections of its
   * `@fromContext` arguments), by the field's coordinate: the query plan asks their owners for
   * them and hands them to the field's subgraph, so a request for the field reaches them too,
   * though the partner never sees them.
   */
  readonly requires: ReadonlyMap<string, readonly string[]>;
  fieldsOfType(typeName: string): readonly PersonalFieldDeclaration[];
}

export class UndeclaredPersonalFieldError extends Error {
  constructor(readonly coordinates: readonly string[]) {
    super(
      `Personal data must be declared: ${coordinates.join(', ')} ${coordinates.length === 1 ? 'has' : 'have'} no @personal(category:, purposes:) ` +
        'although ' +
        (coordinates.length === 1 ? 'it is a field' : 'they are fields') +
        " of a data subject (an entity keyed by Personnummer). Declare it in the owning subgraph's SDL.",
    );
    this.name = 'UndeclaredPersonalFieldError';
  }
}

/**
 * A @personal field on a type whose objects are not data subjects: its values cannot be tied to a
 * person, so the subgraph kit could not bind them to the case's subjects and the access log could
 * not name whose data left. Declare the field on the data subject that leads to it instead.
 */
export class PersonalFieldWithoutSubjectError extends Error {
  constructor(readonly coordinates: readonly string[]) {
    super(
      `${coordinates.join(', ')} ${coordinates.length === 1 ? 'is' : 'are'} declared @personal on a type that is not a data subject ` +
        '(an entity keyed by Personnummer, or an interface every implementation of which is one): its values could not be ' +
        "bound to the subjects of a case nor logged against a person. Declare @personal on the data subject's field that leads to it.",
    );
    this.name = 'PersonalFieldWithoutSubjectError';
  }
}

/**
 * A non-null @personal field. A field is withheld as null with a coded error; a non-null one would
 * null its parent instead (and on up to the next nullable field), erasing the data of everyone
 * around it and the very values the access log would record as withheld.
 */
export class PersonalFieldNotNullableError extends Error {
  constructor(readonly coordinates: readonly string[]) {
    super(
      `${coordinates.join(', ')} ${coordinates.length === 1 ? 'is a' : 'are'} non-null @personal field${coordinates.length === 1 ? '' : 's'}: ` +
        "a personal field is withheld as null, so it must be nullable. Drop the `!` in the owning subgraph's SDL.",
    );
    this.name = 'PersonalFieldNotNullableError';
  }
}

const PERSONNUMMER = 'Personnummer';

type CompositeNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode | InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode;

/** One object type or interface of the supergraph, its definition and extensions taken together. */
interface CompositeType {
  readonly name: string;
  readonly isInterface: boolean;
  readonly joinTypes: readonly ConstDirectiveNode[];
  readonly fields: readonly FieldDefinitionNode[];
  /** Interfaces the type implements. */
  readonly interfaces: readonly string[];
}

/**
 * Reads every @personal declaration from a supergraph, with the owning subgraph of each field.
 *
 * Personal by default: every field of a data-subject type (object or entity interface) other than
 * its key must be declared. A missing declaration is an error here, so neither composition nor
 * gateway start-up can put an undeclared personal field in front of partners. So are declarations
 * nothing downstream could honour: on a type whose objects are not data subjects, or on a
 * non-null field (which could not be withheld).
 */
export function readPersonalFieldCatalogue(supergraph: string | DocumentNode): PersonalFieldCatalogue {
  const document = typeof supergraph === 'string' ? parse(supergraph) : supergraph;
  const { graphNames, types } = readSupergraphTypes(document);
  const fields = new Map<string, PersonalFieldDeclaration>();
  const subjectTypes = new Map<string, { keyField: string }>();
  const keyFieldsOf = new Map<string, ReadonlySet<string>>();
  const implementationsOf = new Map<string, string[]>();
  for (const type of types.values()) {
    const keyFields = new Set(
      type.joinTypes
        .map((d) => stringArg(d, 'key'))
        .filter((k): k is string => !!k)
        .flatMap((k) => k.split(/\s+/)),
    );
    keyFieldsOf.set(type.name, keyFields);
    const subjectKey = [...keyFields].find((k) => {
      const field = type.fields.find((f) => f.name.value === k);
      return field !== undefined && namedTypeOf(field) === PERSONNUMMER;
    });
    if (subjectKey) subjectTypes.set(type.name, { keyField: subjectKey });
    if (!type.isInterface) for (const name of type.interfaces) implementationsOf.set(name, [...(implementationsOf.get(name) ?? []), type.name]);
  }
  // An interface every implementation of which is a data subject holds data subjects too, entity or not.
  const holdsSubjects = (type: CompositeType): boolean => {
    if (subjectTypes.has(type.name)) return true;
    const implementations = implementationsOf.get(type.name) ?? [];
    return type.isInterface && implementations.length > 0 && implementations.every((name) => subjectTypes.has(name));
  };

  const undeclared: string[] = [];
  const withoutSubject: string[] = [];
  const nonNull: string[] = [];
  for (const type of types.values()) {
    const keyFields = keyFieldsOf.get(type.name)!;
    for (const field of type.fields) {
      const coordinate = `${type.name}.${field.name.value}`;
      const personal = readPersonalDeclaration(coordinate, field.directives);
      if (!personal) {
        if (subjectTypes.has(type.name) && !keyFields.has(field.name.value)) undeclared.push(coordinate);
        continue;
      }
      if (!holdsSubjects(type)) {
        withoutSubject.push(coordinate);
        continue;
      }
      if (field.type.kind === Kind.NON_NULL_TYPE) nonNull.push(coordinate);
      const owner = ownerOf(type, field, types, graphNames);
      if (!owner) throw new Error(`${coordinate}: cannot tell which subgraph owns it (no @join__field graph).`);
      fields.set(coordinate, {
        coordinate,
        typeName: type.name,
        fieldName: field.name.value,
        category: personal.category,
        purposes: personal.purposes,
        owner,
        providers: providersOf(field, graphNames, owner),
      });
    }
  }
  if (undeclared.length > 0) throw new UndeclaredPersonalFieldError(undeclared.sort());
  if (withoutSubject.length > 0) throw new PersonalFieldWithoutSubjectError(withoutSubject.sort());
  if (nonNull.length > 0) throw new PersonalFieldNotNullableError(nonNull.sort());

  const byType = new Map<string, PersonalFieldDeclaration[]>();
  for (const declaration of fields.values()) {
    const list = byType.get(declaration.typeName) ?? [];
    list.push(declaration);
    byType.set(declaration.typeName, list);
  }
  return { fields, subjectTypes, requires: requiredCoordinates(types, contextTypes(document, types)), fieldsOfType: (typeName) => byType.get(typeName) ?? [] };
}

/** The supergraph's object types and interfaces (definitions and extensions merged), and its subgraph names. */
function readSupergraphTypes(document: DocumentNode): { graphNames: Map<string, string>; types: Map<string, CompositeType> } {
  const graphNames = new Map<string, string>();
  const nodesByType = new Map<string, CompositeNode[]>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph') {
      for (const value of definition.values ?? []) {
        const name = stringArg(findDirective(value.directives, 'join__graph'), 'name');
        if (name) graphNames.set(value.name.value, name);
      }
    }
    if (
      definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
      definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
      definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
      definition.kind === Kind.INTERFACE_TYPE_EXTENSION
    ) {
      nodesByType.set(definition.name.value, [...(nodesByType.get(definition.name.value) ?? []), definition]);
    }
  }
  const types = new Map<string, CompositeType>();
  for (const [name, nodes] of nodesByType) {
    types.set(name, {
      name,
      isInterface: nodes.some((n) => n.kind === Kind.INTERFACE_TYPE_DEFINITION || n.kind === Kind.INTERFACE_TYPE_EXTENSION),
      joinTypes: nodes.flatMap((n) => n.directives ?? []).filter((d) => d.name.value === 'join__type'),
      fields: nodes.flatMap((n) => n.fields ?? []),
      interfaces: nodes.flatMap((n) => n.interfaces ?? []).map((i) => i.name.value),
    });
  }
  return { graphNames, types };
}

/**
 * Per field with `@join__field(requires:)` or `@join__field(contextArguments:)` in some subgraph,
 * the coordinates those field sets select: a context argument's selection on each object type
 * its context is set on (an interface's or union's, on each of theirs too).
 */
function requiredCoordinates(types: ReadonlyMap<string, CompositeType>, contexts: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const requires = new Map<string, string[]>();
  for (const type of types.values()) {
    for (const field of type.fields) {
      const coordinate = `${type.name}.${field.name.value}`;
      const found = new Set<string>();
      for (const directive of field.directives ?? []) {
        if (directive.name.value !== 'join__field') continue;
        const fieldSet = stringArg(directive, 'requires');
        if (fieldSet !== undefined) addFieldSet(type.name, fieldSetOf(`{ ${fieldSet} }`, coordinate, 'requires'), types, found);
        const contextArguments = argument(directive, 'contextArguments');
        for (const value of contextArguments?.kind === Kind.LIST ? contextArguments.values : contextArguments ? [contextArguments] : []) {
          const context = value.kind === Kind.OBJECT ? value.fields.find((f) => f.name.value === 'context')?.value : undefined;
          const selection = value.kind === Kind.OBJECT ? value.fields.find((f) => f.name.value === 'selection')?.value : undefined;
          if (context?.kind !== Kind.STRING || selection?.kind !== Kind.STRING) throw new Error(`${coordinate}: @join__field(contextArguments:) names no context and selection.`);
          const contextTypes = contexts.get(context.value);
          if (!contextTypes) throw new Error(`${coordinate}: @join__field(contextArguments:) names context ${context.value}, which no type sets.`);
          const selectionSet = fieldSetOf(selection.value, coordinate, 'contextArguments');
          for (const contextType of contextTypes) addFieldSet(contextType, selectionSet, types, found);
        }
      }
      if (found.size > 0) requires.set(coordinate, [...found]);
    }
  }
  return requires;
}

function fieldSetOf(text: string, coordinate: string, argumentName: string): SelectionSetNode {
  try {
    return (parse(text, { noLocation: true }).definitions[0] as OperationDefinitionNode).selectionSet;
  } catch {
    throw new Error(`${coordinate}: @join__field(${argumentName}:) is not a field set.`);
  }
}

/** Per context name (`@context(name:)` on an object type, interface or union), the types it is set on, an interface's implementations and a union's members included. */
function contextTypes(document: DocumentNode, types: ReadonlyMap<string, CompositeType>): Map<string, string[]> {
  const unionMembers = new Map<string, string[]>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.UNION_TYPE_DEFINITION || definition.kind === Kind.UNION_TYPE_EXTENSION) {
      unionMembers.set(definition.name.value, [...(unionMembers.get(definition.name.value) ?? []), ...(definition.types ?? []).map((t) => t.name.value)]);
    }
  }
  const contexts = new Map<string, string[]>();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION &&
      definition.kind !== Kind.UNION_TYPE_DEFINITION &&
      definition.kind !== Kind.UNION_TYPE_EXTENSION
    )
      continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'context') continue;
      const name = stringArg(directive, 'name');
      if (!name) continue;
      const typeName = definition.name.value;
      const implementations = [...types.values()].filter((t) => t.interfaces.includes(typeName)).map((t) => t.name);
      contexts.set(name, [...new Set([...(contexts.get(name) ?? []), typeName, ...implementations, ...(unionMembers.get(typeName) ?? [])])]);
    }
  }
  return contexts;
}

function addFieldSet(typeName: string, selectionSet: SelectionSetNode, types: ReadonlyMap<string, CompositeType>, found: Set<string>): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      addFieldSet(selection.typeCondition?.name.value ?? typeName, selection.selectionSet, types, found);
    } else if (selection.kind === Kind.FIELD && !selection.name.value.startsWith('__')) {
      found.add(`${typeName}.${selection.name.value}`);
      const definition = types.get(typeName)?.fields.find((f) => f.name.value === selection.name.value);
      if (selection.selectionSet && definition) addFieldSet(namedTypeOf(definition), selection.selectionSet, types, found);
    }
  }
}

/**
 * The subgraph that resolves a field: its `@join__field(graph:)` that is not `external`; for a
 * type known to one subgraph only, that subgraph. A field an `@interfaceObject` subgraph adds to
 * every implementation of an entity interface carries a bare `@join__field` on the implementation
 * (no subgraph resolves it from the implementation itself): its owner is the one that resolves
 * the interface's field.
 */
function ownerOf(type: CompositeType, field: FieldDefinitionNode, types: ReadonlyMap<string, CompositeType>, graphNames: ReadonlyMap<string, string>): string | undefined {
  const joinFields = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
  const joinField = joinFields.find((d) => enumArg(d, 'graph') && !booleanArg(d, 'external'));
  if (joinField) return graphNames.get(enumArg(joinField, 'graph')!);
  if (joinFields.length > 0 && joinFields.every((d) => !enumArg(d, 'graph'))) {
    const owners = new Set<string>();
    for (const name of type.interfaces) {
      const interfaceType = types.get(name);
      const interfaceField = interfaceType?.fields.find((f) => f.name.value === field.name.value);
      if (interfaceType && interfaceField) {
        const owner = ownerOf(interfaceType, interfaceField, types, graphNames);
        if (owner) owners.add(owner);
      }
    }
    return owners.size === 1 ? [...owners][0] : undefined;
  }
  const graph = type.joinTypes.length === 1 ? enumArg(type.joinTypes[0]!, 'graph') : undefined;
  return graph ? graphNames.get(graph) : undefined;
}

function providersOf(field: FieldDefinitionNode, graphNames: ReadonlyMap<string, string>, owner: string): ReadonlySet<string> {
  const providers = new Set<string>();
  for (const directive of field.directives ?? []) {
    const graph = directive.name.value === 'join__field' && booleanArg(directive, 'external') ? enumArg(directive, 'graph') : undefined;
    const name = graph ? graphNames.get(graph) : undefined;
    if (name && name !== owner) providers.add(name);
  }
  return providers;
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
