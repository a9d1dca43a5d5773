import fc from 'fast-check';

/*
 * Generated operation forms over the reference API: fragments named and inline, aliases merging by
 * response key, @skip/@include on literals and on variables with and without defaults, sent or
 * left out, relations to persons outside the case. Used by the released-values property test
 * (test/access-log/operationForms.property.test.ts) and the compiled-operations differential test
 * (test/gateway/compiledOperations.test.ts).
 */

const LEAVES = [
  'name { givenName }',
  'name { familyName }',
  'dateOfBirth',
  'sex',
  'civilStatus',
  'identityNumberKind',
  'registeredAddress { city }',
  'taxedIncome { year earnedIncome }',
  'benefits { benefit amount }',
  'studentAid { grant }',
  'jobSeeker { status }',
  'activitySupport { amount }',
  'personnummer',
  '__typename',
] as const;

type Condition =
  | { readonly kind: 'none' }
  | { readonly kind: 'literal'; readonly directive: 'include' | 'skip'; readonly value: boolean }
  | { readonly kind: 'variable'; readonly directive: 'include' | 'skip'; readonly variable: number };

/** How a condition variable is declared and whether the request sends it. */
type VariableForm = { readonly type: 'Boolean!'; readonly sent: boolean } | { readonly type: 'Boolean'; readonly default: boolean; readonly sent: boolean | null | undefined };

interface Selection {
  readonly kind: 'field' | 'inline' | 'typed-inline' | 'spread' | 'household';
  readonly leaf: number;
  readonly alias: number | undefined;
  readonly condition: Condition;
  readonly fragment: number;
  readonly children: readonly Selection[];
}

const condition: fc.Arbitrary<Condition> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' } as const) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('literal' as const), directive: fc.constantFrom('include' as const, 'skip' as const), value: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('variable' as const), directive: fc.constantFrom('include' as const, 'skip' as const), variable: fc.integer({ min: 0, max: 2 }) }) },
);

const selection = fc.letrec<{ selection: Selection; selections: Selection[] }>((tie) => ({
  selection: fc
    .record({
      kind: fc.oneof(
        { weight: 8, arbitrary: fc.constant('field' as const) },
        { weight: 1, arbitrary: fc.constant('inline' as const) },
        { weight: 1, arbitrary: fc.constant('typed-inline' as const) },
        { weight: 2, arbitrary: fc.constant('spread' as const) },
        { weight: 2, arbitrary: fc.constant('household' as const) },
      ),
      leaf: fc.integer({ min: 0, max: LEAVES.length - 1 }),
      alias: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      condition,
      fragment: fc.integer({ min: 0, max: 1 }),
      children: fc.constant([] as Selection[]),
    })
    .chain((s): fc.Arbitrary<Selection> => (s.kind === 'field' || s.kind === 'spread' ? fc.constant(s) : (tie('selections') as fc.Arbitrary<Selection[]>).map((children) => ({ ...s, children })))),
  selections: fc.array(tie('selection') as fc.Arbitrary<Selection>, { minLength: 1, maxLength: 4 }),
}));

const variableForm: fc.Arbitrary<VariableForm> = fc.oneof(
  fc.record({ type: fc.constant('Boolean!' as const), sent: fc.boolean() }),
  fc.record({
    type: fc.constant('Boolean' as const),
    default: fc.boolean(),
    sent: fc.oneof({ weight: 4, arbitrary: fc.option(fc.boolean(), { nil: undefined }) }, { weight: 1, arbitrary: fc.constant(null) }),
  }),
);

export const operationForm = fc.record({
  root: fc.constantFrom('person', 'persons', 'lookup', 'person+lookup'),
  rootAlias: fc.boolean(),
  selections: fc.array(selection.selection, { minLength: 1, maxLength: 4 }).filter((s) => s.length > 0),
  fragments: fc.tuple(fc.array(selection.selection, { minLength: 1, maxLength: 3 }), fc.array(selection.selection, { minLength: 1, maxLength: 3 })),
  variables: fc.tuple(variableForm, variableForm, variableForm),
});

export type OperationForm = typeof operationForm extends fc.Arbitrary<infer T> ? T : never;

/** The document and variables of a generated form. Depth is bounded: a household's own households are not expanded. */
export function render(form: OperationForm, subjects: { readonly p: string; readonly ps: readonly string[] }) {
  const used = new Set<number>();
  const usedFragments = new Set<number>();
  const directive = (c: Condition) => {
    if (c.kind === 'none') return '';
    if (c.kind === 'literal') return ` @${c.directive}(if: ${c.value})`;
    used.add(c.variable);
    return ` @${c.directive}(if: $v${c.variable})`;
  };
  const renderAll = (list: readonly Selection[], depth: number, inFragment: boolean): string => list.map((s) => renderOne(s, depth, inFragment)).join(' ');
  const renderOne = (s: Selection, depth: number, inFragment: boolean): string => {
    const leaf = LEAVES[s.leaf]!;
    const space = leaf.indexOf(' ');
    const [name, subselection] = space < 0 ? [leaf, ''] : [leaf.slice(0, space), leaf.slice(space)];
    // One alias name per field and number, so merged keys always name the same field (valid GraphQL).
    const alias = s.alias === undefined || leaf === '__typename' ? '' : `${name}_${s.alias}: `;
    const field = () => `${alias}${name}${directive(s.condition)}${subselection}`;
    switch (s.kind) {
      case 'field':
        return field();
      case 'inline':
        return `...${directive(s.condition)} { ${renderAll(s.children, depth, inFragment)} }`;
      case 'typed-inline':
        return `... on Person${directive(s.condition)} { ${renderAll(s.children, depth, inFragment)} }`;
      case 'spread':
        if (inFragment) return field();
        usedFragments.add(s.fragment);
        return `...F${s.fragment}${directive(s.condition)}`;
      case 'household':
        if (depth > 0) return field();
        return `${s.alias === undefined ? '' : `household_${s.alias}: `}household${directive(s.condition)} { ${renderAll(s.children, depth + 1, inFragment)} }`;
    }
  };
  const body = renderAll(form.selections, 0, false);
  const fragments = [0, 1].filter((i) => usedFragments.has(i)).map((i) => `fragment F${i} on Person { ${renderAll(form.fragments[i]!, 0, true)} }`);
  const alias = form.rootAlias ? 'r: ' : '';
  const roots: string[] = [];
  if (form.root === 'person' || form.root === 'person+lookup') roots.push(`${alias}person(personnummer: $p) { ${body} }`);
  if (form.root === 'persons') roots.push(`${alias}persons(personnummer: $ps) { ${body} }`);
  if (form.root === 'lookup' || form.root === 'person+lookup') roots.push(`${form.root === 'lookup' ? alias : 'l: '}lookup(personnummer: $p) { __typename ... on Person { ${body} } }`);
  const variables: Record<string, unknown> = {};
  const definitions = [form.root === 'persons' ? '$ps: [Personnummer!]!' : '$p: Personnummer!'];
  if (form.root === 'persons') variables['ps'] = subjects.ps;
  else variables['p'] = subjects.p;
  for (const index of [...used].sort()) {
    const v = form.variables[index]!;
    if (v.type === 'Boolean!') {
      definitions.push(`$v${index}: Boolean!`);
      variables[`v${index}`] = v.sent;
    } else {
      definitions.push(`$v${index}: Boolean = ${v.default}`);
      if (v.sent !== undefined) variables[`v${index}`] = v.sent;
    }
  }
  return { document: `query Generated(${definitions.join(', ')}) { ${roots.join(' ')} } ${fragments.join(' ')}`, variables };
}
