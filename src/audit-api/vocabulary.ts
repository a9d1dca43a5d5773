import { Kind, parse, type DocumentNode, type GraphQLSchema, isEnumType } from 'graphql';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';

/**
 * Plain-language names of what the access log records (personal fields, purposes, categories,
 * outcomes, ...), read from the schemas' own descriptions so there is one source of truth: the
 * data owner names its field where it declares it, the audit schema names its enum values.
 *
 * Convention: the first line of a description is the label, Swedish first and English in
 * parentheses, e.g.
 *
 *     """
 *     Taxerad inkomst (Taxed income)
 *     Taxed income per income year, newest first; one year when year is given.
 *     """
 *
 * The remaining lines are the description. A description without such a first line (an agency
 * that has not named its field in Swedish yet) falls back to the field's name in words, in both
 * languages, and keeps the whole description.
 */

export interface Label {
  readonly key: string;
  readonly sv: string;
  readonly en: string;
  readonly description: string | null;
}

export interface Vocabulary {
  /** Personal fields by coordinate (`Person.taxedIncome`). */
  readonly fields: readonly Label[];
  readonly purposes: readonly Label[];
  readonly categories: readonly Label[];
  readonly outcomes: readonly Label[];
  readonly kinds: readonly Label[];
  readonly anomalyKinds: readonly Label[];
  readonly roles: readonly Label[];
}

const LABEL_LINE = /^(.+?)\s+\(([^()]+)\)\.?$/;

/** `taxedIncome` → `Taxed income`, `PAYMENT_CONTROL` → `Payment control`. */
function inWords(name: string): string {
  const words = name
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function labelFromDescription(key: string, name: string, description: string | undefined | null): Label {
  const lines = (description ?? '')
    .trim()
    .split('\n')
    .map((line) => line.trim());
  const match = LABEL_LINE.exec(lines[0] ?? '');
  if (match?.[1] && match[2]) {
    const rest = lines.slice(1).join(' ').trim();
    return { key, sv: match[1], en: match[2], description: rest === '' ? null : rest };
  }
  const words = inWords(name);
  return { key, sv: words, en: words, description: description?.trim() || null };
}

/** Field descriptions of object types (definitions and extensions) in an SDL document, by coordinate. */
function fieldDescriptions(document: DocumentNode): Map<string, string | undefined> {
  const descriptions = new Map<string, string | undefined>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const field of definition.fields ?? []) {
      const coordinate = `${definition.name.value}.${field.name.value}`;
      if (field.description?.value || !descriptions.has(coordinate)) descriptions.set(coordinate, field.description?.value);
    }
  }
  return descriptions;
}

function enumLabels(document: DocumentNode, enumName: string): Label[] {
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === enumName) {
      return (definition.values ?? []).map((value) => labelFromDescription(value.name.value, value.name.value, value.description?.value));
    }
  }
  return [];
}

function schemaEnumLabels(schema: GraphQLSchema, enumName: string): Label[] {
  const type = schema.getType(enumName);
  if (!isEnumType(type)) return [];
  return type.getValues().map((value) => labelFromDescription(value.name, value.name, value.description));
}

/** The vocabulary of the supergraph (fields, purposes, categories) and the audit schema (outcomes, kinds, ...). */
export function readVocabulary(supergraph: string | DocumentNode, catalogue: PersonalFieldCatalogue, auditSchema: GraphQLSchema): Vocabulary {
  const document = typeof supergraph === 'string' ? parse(supergraph) : supergraph;
  const descriptions = fieldDescriptions(document);
  const fields = [...catalogue.fields.values()]
    .map((field) => labelFromDescription(field.coordinate, field.fieldName, descriptions.get(field.coordinate)))
    .sort((a, b) => a.sv.localeCompare(b.sv, 'sv'));
  return {
    fields,
    purposes: enumLabels(document, 'Purpose'),
    categories: enumLabels(document, 'PersonalDataCategory'),
    outcomes: schemaEnumLabels(auditSchema, 'Outcome'),
    kinds: schemaEnumLabels(auditSchema, 'EntryKind'),
    anomalyKinds: schemaEnumLabels(auditSchema, 'AnomalyKind'),
    roles: schemaEnumLabels(auditSchema, 'AuditRole'),
  };
}

/** Looks labels up by key; unknown keys (an entry from before a field was renamed) read as themselves. */
export function labeller(labels: readonly Label[], language: 'sv' | 'en'): (key: string) => string {
  const byKey = new Map(labels.map((label) => [label.key, label[language]]));
  return (key) => byKey.get(key) ?? key;
}
