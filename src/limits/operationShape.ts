import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  isScalarType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** What executing an operation could amount to, counted before anything runs. */
export interface OperationShape {
  /** Deepest nesting of selection sets (a root field alone is depth 1). */
  readonly depth: number;
  /** Aliased fields, each fragment counted as often as it is spread. */
  readonly aliases: number;
  /** Fields selected on the root type, fragments expanded. */
  readonly rootFields: number;
  /** Persons the operation could reach: every field returning a data subject, times its list size and the lists above it. */
  readonly persons: number;
  /** Each field 1, a list field's sub-selection weighted by the list's size. */
  readonly cost: number;
}

/** A measured shape, and whether the request's variables went into it (list lengths taken from them). */
export interface MeasuredShape extends OperationShape {
  readonly readsVariables: boolean;
}

export interface ShapeOptions {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly operation: OperationDefinitionNode;
  readonly variables: Readonly<Record<string, unknown>>;
  /** Types whose objects are persons (data subjects). */
  readonly subjectTypes: ReadonlySet<string>;
  /** Name of the scalar whose lists enumerate persons (`persons(personnummer: [...])`). */
  readonly personnummerScalar: string;
  /** Assumed size of a list of persons the operation does not enumerate (a household). */
  readonly householdSize: number;
  /** Assumed size of any other list. */
  readonly listSize: number;
}

interface Tally {
  depth: number;
  aliases: number;
  fields: number;
  persons: number;
  cost: number;
}

/**
 * Counts an operation's shape in one pass. Fragments are measured once per type and reused at
 * every spread, so a document that spreads fragments exponentially costs linear time to measure
 * while its counts grow as its execution would (to Infinity if need be, which any limit refuses).
 * Aliases multiply like anything else: `a: person(...) b: person(...)` reaches two persons.
 * Validation has run, so fragment cycles are impossible here.
 */
export function measureOperation(options: ShapeOptions): MeasuredShape {
  const memo = new Map<string, Tally>();
  let readsVariables = false;

  const lengthOf = (value: ValueNode): number => {
    if (value.kind === Kind.LIST) return value.values.length;
    if (value.kind === Kind.NULL) return 0;
    if (value.kind === Kind.VARIABLE) {
      readsVariables = true;
      const name = value.name.value;
      // The variables are coerced (ResolvedOperation): a default is already in place.
      const resolved = Object.hasOwn(options.variables, name) ? options.variables[name] : undefined;
      if (Array.isArray(resolved)) return resolved.length;
      return resolved === null || resolved === undefined ? 0 : 1;
    }
    // A single value where a list is expected is coerced to a list of one.
    return 1;
  };

  // A field whose type is a union or interface a subject type belongs to (RegisterLookup = Person | NotInRegister) reaches a person as surely as one typed Person.
  const mayBeSubject = (type: GraphQLNamedType): boolean =>
    options.subjectTypes.has(type.name) || (isAbstractType(type) && options.schema.getPossibleTypes(type).some((possible) => options.subjectTypes.has(possible.name)));

  const isPersonnummerList = (type: GraphQLInputType): boolean => {
    const nullable = getNullableType(type);
    if (!isListType(nullable)) return false;
    const item = getNamedType(nullable.ofType);
    return isScalarType(item) && item.name === options.personnummerScalar;
  };

  /** How many values one occurrence of the field yields. */
  const multiplicity = (field: FieldNode, definition: GraphQLField<unknown, unknown>, returnsPerson: boolean): number => {
    if (!isListType(getNullableType(definition.type))) return 1;
    if (returnsPerson) {
      const enumerating = definition.args.filter((arg) => isPersonnummerList(arg.type));
      if (enumerating.length > 0) {
        let total = 0;
        for (const arg of enumerating) {
          const node = field.arguments?.find((a) => a.name.value === arg.name);
          if (node) total += lengthOf(node.value);
        }
        return total;
      }
      return options.householdSize;
    }
    return options.listSize;
  };

  const measure = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType): Tally => {
    const tally: Tally = { depth: 0, aliases: 0, fields: 0, persons: 0, cost: 0 };
    const add = (inner: Tally, times = 1) => {
      tally.depth = Math.max(tally.depth, inner.depth);
      tally.aliases += inner.aliases * times;
      tally.fields += inner.fields * times;
      tally.persons += inner.persons * times;
      tally.cost += inner.cost * times;
    };
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        tally.fields += 1;
        if (selection.alias) tally.aliases += 1;
        tally.depth = Math.max(tally.depth, 1);
        const name = selection.name.value;
        if (name.startsWith('__')) {
          tally.cost += 1;
          continue;
        }
        const definition = isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[name] : undefined;
        if (!definition) continue;
        const named = getNamedType(definition.type);
        const returnsPerson = mayBeSubject(named);
        const times = multiplicity(selection, definition, returnsPerson);
        tally.cost += 1;
        if (returnsPerson) tally.persons += times;
        if (selection.selectionSet && isCompositeType(named)) {
          const inner = measure(selection.selectionSet, named);
          tally.depth = Math.max(tally.depth, inner.depth + 1);
          // Aliases are written once however often the list repeats them; persons and cost repeat.
          tally.aliases += inner.aliases;
          tally.persons += inner.persons * times;
          tally.cost += inner.cost * times;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? options.schema.getType(selection.typeCondition.name.value) : parentType;
        add(measure(selection.selectionSet, condition && isCompositeType(condition) ? condition : parentType));
      } else {
        const fragment = options.fragments.get(selection.name.value);
        if (!fragment) continue;
        const key = fragment.name.value;
        let inner = memo.get(key);
        if (!inner) {
          const condition = options.schema.getType(fragment.typeCondition.name.value);
          inner = measure(fragment.selectionSet, condition && isCompositeType(condition) ? condition : parentType);
          memo.set(key, inner);
        }
        add(inner);
      }
    }
    return tally;
  };

  const rootType =
    options.operation.operation === 'query' ? options.schema.getQueryType() : options.operation.operation === 'mutation' ? options.schema.getMutationType() : options.schema.getSubscriptionType();
  if (!rootType) return { depth: 0, aliases: 0, rootFields: 0, persons: 0, cost: 0, readsVariables };
  const tally = measure(options.operation.selectionSet, rootType);
  return { depth: tally.depth, aliases: tally.aliases, rootFields: tally.fields, persons: tally.persons, cost: tally.cost, readsVariables };
}
