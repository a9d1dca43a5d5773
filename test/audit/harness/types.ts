import type { AccessLogStore } from '../../../src/audit/store/AccessLogStore.js';

/** What the contract suite needs from a backend besides the store: raw SQL access, as an attacker or an outage would have. */
export interface StoreHarness {
  readonly name: 'sqlite' | 'postgres';
  readonly store: AccessLogStore;
  /** Another store instance on the same data, as a second process would open it. */
  openAnother(): Promise<AccessLogStore>;
  /** Runs SQL directly (placeholders in the backend's dialect are avoided: values are inlined by the helpers). */
  exec(sql: string): Promise<void>;
  /** Table names as the SQL must spell them. */
  readonly tables: {
    readonly records: string;
    readonly subjects: string;
    readonly checkpoints: string;
    readonly chains: string;
    readonly purges: string;
    readonly treeNodes: string;
    readonly treeHeads: string;
  };
  /** Holds the database's write lock from another connection until release() is called. */
  blockWrites(): Promise<{ release: () => Promise<void> }>;
  /** Environment for a child process to open the same store (see fixtures/appendLoop.ts). */
  readonly childEnv: Readonly<Record<string, string>>;
  cleanup(): Promise<void>;
}
