import type { FileImport } from './importGraph.js';

/**
 * The layers of src/ (and of resolvers/, whose folders sit among them), lowest first: the one
 * place they are declared; README's "Layers" table mirrors it and layers.test.ts checks that it
 * does. A folder may import folders of lower layers only. Folders of one layer are independent of
 * each other, so an import between them counts as running up too: that keeps each layer free of
 * cycles without ordering its folders.
 */
export interface Layer {
  readonly folders: readonly string[];
  /** Why the layer sits where it does, in one line. */
  readonly why: string;
}

export const LAYERS: readonly Layer[] = [
  {
    folders: ['errors', 'personnummer', 'resilience', 'transparency'],
    why: 'the vocabulary every layer speaks (error codes, the personnummer, the circuit breaker, the transparency-log formats: RFC 9162 Merkle proofs, C2SP signed notes); they know nothing of the exchange',
  },
  { folders: ['policy'], why: 'pure rules over documents, purposes and agreements: no caller, no store, no Apollo' },
  {
    folders: ['config'],
    why: 'the environment read into typed settings (names, defaults, validation) and the list of agencies this repository ships; every layer above takes its slice as a parameter from the CLI edge',
  },
  { folders: ['redis'], why: 'the shared connection the replay cache and the rate limiter use; it reports through events, not a logger' },
  { folders: ['identity'], why: 'who calls: certificates, tokens, registries, replay caches (on redis)' },
  { folders: ['audit'], why: 'the access log records what an identified caller was given or refused' },
  { folders: ['http'], why: 'node:http plumbing every listener shares: bodies, coded JSON answers, connection limits per agency, the route type' },
  { folders: ['observability'], why: "logs, metrics, traces, readiness: it follows the access log's, the witnesses' and Redis's events and answers /readyz and /metrics through http/" },
  {
    folders: ['client', 'trusted-documents', 'witness'],
    why: 'the partner package (tokens on identity), the registered documents (read with policy) and the witness service (cosigns the log on the transparency formats)',
  },
  { folders: ['pipeline'], why: "the request's stages as typed values and functions, the check signature among them: Apollo-free" },
  { folders: ['limits'], why: 'the rate limits admit an identified request (a stage) and log what they refuse' },
  { folders: ['checks'], why: "each check implements the pipeline's signature; the pipeline runs the list it is given" },
  { folders: ['gateway'], why: 'the Apollo-free parts of calling subgraphs (signed context, transport)' },
  { folders: ['apollo'], why: 'the one adapter to Apollo Server and @apollo/gateway, driving the stages below' },
  { folders: ['subgraph-kit'], why: 'what an agency needs to serve a trusted subgraph: the identity and policy below it, and the same node:http bridge to Apollo Server as the gateway' },
  { folders: ['agencies'], why: 'the data-owning agencies and their modules by convention (built with the subgraph kit)' },
  { folders: ['population', 'resolvers/shared'], why: "the synthetic population written into each agency store, and the helpers the agencies' resolvers share" },
  {
    folders: ['composition', 'resolvers/skatteverket', 'resolvers/forsakringskassan', 'resolvers/csn', 'resolvers/arbetsformedlingen', 'resolvers/kronofogden', 'resolvers/exchange'],
    why: "the reference supergraph composed from the agencies, each agency's resolvers over its store, and the gateway's own catalogue subgraph (served in-process, built like an agency's)",
  },
  { folders: ['audit-api', 'ide'], why: 'routes mounted beside /graphql: they read the access log and the registries, never the request path' },
  { folders: ['root'], why: 'createGateway.ts and loadGatewayDependencies.ts, the composition root: wires every layer' },
  { folders: ['cli'], why: 'the command-line edge: reads the environment once and starts what the root builds' },
];

/**
 * Folders that belong to another folder's room: the audit API's schema resolvers live beside the
 * agencies' under resolvers/, but the audit API's routes mount them and they call its service.
 */
export const ROOMS: Readonly<Record<string, string>> = { 'resolvers/audit': 'audit-api' };

/** An import allowed to run up the layers, with the reason it does. At most two. */
export interface AllowedUpwardImport {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

export const ALLOWED_UPWARD: readonly AllowedUpwardImport[] = [];

export const MAX_UPWARD_IMPORTS = 2;

/**
 * Where `@apollo/*` may be imported: the adapter, the subgraph kit (a subgraph is built with
 * @apollo/subgraph), the composition root, and the in-process exchange subgraph.
 */
export const APOLLO_IMPORTERS: readonly string[] = ['src/apollo/', 'src/subgraph-kit/', 'src/createGateway.ts', 'resolvers/exchange/'];

// ---------------------------------------------------------------------------------------------
// The rules, as functions of an import graph (the real one, or a small one a test makes up).

/** `src/audit/store/sql.ts` → `audit`, `src/createGateway.ts` → `root`, `resolvers/csn/x.ts` → `resolvers/csn`; null outside src/ and resolvers/. */
export function folderOf(file: string): string | null {
  const parts = file.split('/');
  let folder: string | null = null;
  if (parts[0] === 'src' && parts.length === 2) folder = 'root';
  else if (parts[0] === 'src' && parts.length > 2) folder = parts[1]!;
  else if (parts[0] === 'resolvers' && parts.length > 2) folder = `resolvers/${parts[1]}`;
  return folder === null ? null : (ROOMS[folder] ?? folder);
}

export interface FolderImport extends FileImport {
  readonly fromFolder: string;
  readonly toFolder: string;
}

/** The imports that cross from one folder to another: the edges the folder rules are about. */
export function crossFolderImports(imports: readonly FileImport[]): FolderImport[] {
  const crossing: FolderImport[] = [];
  for (const item of imports) {
    if (item.external) continue;
    const fromFolder = folderOf(item.from);
    const toFolder = folderOf(item.to);
    if (fromFolder !== null && toFolder !== null && fromFolder !== toFolder) crossing.push({ ...item, fromFolder, toFolder });
  }
  return crossing;
}

export function layerIndex(layers: readonly Layer[]): Map<string, number> {
  const index = new Map<string, number>();
  layers.forEach((layer, position) => {
    for (const folder of layer.folders) index.set(folder, position);
  });
  return index;
}

/** Folders with sources that no layer names: a new folder must be given its place. */
export function unplacedFolders(imports: readonly FileImport[], layers: readonly Layer[]): string[] {
  const index = layerIndex(layers);
  const folders = new Set<string>();
  for (const item of imports) {
    const folder = folderOf(item.from);
    if (folder !== null && !index.has(folder)) folders.add(folder);
  }
  return [...folders].sort();
}

/** Imports into the same or a higher layer (between different folders). */
export function upwardImports(imports: readonly FileImport[], layers: readonly Layer[]): FolderImport[] {
  const index = layerIndex(layers);
  return crossFolderImports(imports).filter((item) => {
    const from = index.get(item.fromFolder);
    const to = index.get(item.toFolder);
    return from !== undefined && to !== undefined && to >= from;
  });
}

export function isAllowed(item: FileImport, allowed: readonly AllowedUpwardImport[]): boolean {
  return allowed.some((entry) => entry.from === item.from && entry.to === item.to);
}

export interface FolderCycle {
  /** The folders in the order the imports run, the first repeated at the end. */
  readonly folders: readonly string[];
  /** For each step of the cycle, the file-level imports that make it. */
  readonly steps: readonly { readonly from: string; readonly to: string; readonly imports: readonly string[] }[];
}

/**
 * The cycles among folders: the strongly connected sets (Tarjan), and in each the shortest cycle
 * through every member, with the file-level imports of every step: the message says which lines
 * to move.
 */
export function folderCycles(imports: readonly FileImport[]): FolderCycle[] {
  const crossing = crossFolderImports(imports);
  const next = new Map<string, Set<string>>();
  for (const item of crossing) {
    if (!next.has(item.fromFolder)) next.set(item.fromFolder, new Set());
    next.get(item.fromFolder)!.add(item.toFolder);
  }
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (folder: string): void => {
    order.set(folder, order.size);
    low.set(folder, order.get(folder)!);
    stack.push(folder);
    onStack.add(folder);
    for (const target of next.get(folder) ?? []) {
      if (!order.has(target)) {
        visit(target);
        low.set(folder, Math.min(low.get(folder)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(folder, Math.min(low.get(folder)!, order.get(target)!));
      }
    }
    if (low.get(folder) === order.get(folder)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== folder);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const folder of [...next.keys()].sort()) if (!order.has(folder)) visit(folder);

  const cycles = new Map<string, FolderCycle>();
  for (const component of components) {
    const members = new Set(component);
    for (const start of component) {
      const path = shortestCycle(start, members, next);
      // The same cycle is found from each of its folders: keep it once, as read from its lowest name.
      const turn = path.indexOf([...path.slice(0, -1)].sort()[0]!);
      const key = [...path.slice(turn, -1), ...path.slice(0, turn)].join(' → ');
      if (cycles.has(key)) continue;
      const steps = path.slice(0, -1).map((from, i) => {
        const to = path[i + 1]!;
        return { from, to, imports: [...new Set(crossing.filter((item) => item.fromFolder === from && item.toFolder === to).map((item) => `${item.from} → ${item.to}`))] };
      });
      cycles.set(key, { folders: path, steps });
    }
  }
  return [...cycles.values()];
}

/** Breadth-first from `start` back to it, within one strongly connected set: the shortest cycle through it. */
function shortestCycle(start: string, members: ReadonlySet<string>, next: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  let closing: string | undefined;
  while (queue.length > 0 && closing === undefined) {
    const folder = queue.shift()!;
    for (const target of [...(next.get(folder) ?? [])].sort()) {
      if (!members.has(target)) continue;
      if (target === start) {
        closing = folder;
        break;
      }
      if (!previous.has(target)) {
        previous.set(target, folder);
        queue.push(target);
      }
    }
  }
  const path = [start];
  for (let folder = closing!; folder !== start; folder = previous.get(folder)!) path.splice(1, 0, folder);
  path.push(start);
  return path;
}

/** `@apollo/*` imports outside the places allowed to make them. */
export function strayApolloImports(imports: readonly FileImport[], allowedPrefixes: readonly string[]): FileImport[] {
  return imports.filter((item) => item.external && item.to.startsWith('@apollo/') && !allowedPrefixes.some((prefix) => item.from.startsWith(prefix)));
}

/** How README names a folder: `src/audit/`, `resolvers/csn/`, and `src/*.ts` for the root. */
export function shownFolder(folder: string): string {
  return folder === 'root' ? '`src/*.ts`' : folder.startsWith('resolvers/') ? `\`${folder}/\`` : `\`src/${folder}/\``;
}

/** The Markdown table README's "Layers" section holds, lowest layer first. */
export function layersTable(layers: readonly Layer[]): string {
  const rows = layers.map((layer, i) => `| ${i + 1} | ${layer.folders.map(shownFolder).join(', ')} | ${layer.why} |`);
  return ['| layer | folders | why it sits there |', '| --- | --- | --- |', ...rows].join('\n');
}

export function describeImports(items: readonly FileImport[]): string {
  return items.map((item) => `  ${item.from} → ${item.to}`).join('\n');
}

export function describeCycles(cycles: readonly FolderCycle[]): string {
  return cycles
    .map((cycle) => [`  ${cycle.folders.join(' → ')}`, ...cycle.steps.map((step) => `    ${step.from} → ${step.to}:\n${step.imports.map((line) => `      ${line}`).join('\n')}`)].join('\n'))
    .join('\n');
}
