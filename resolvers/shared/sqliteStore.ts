import Database from 'better-sqlite3';

/**
 * Read-only access to an agency's SQLite register for batch loading. Every batch statement takes
 * one parameter, a JSON array of keys expanded by json_each, so a batch of any size is one
 * prepared statement and one round through SQLite, and the statement counter shows whether
 * batching works.
 */
export class BatchStore {
  readonly #db: Database.Database;
  #statements = 0;

  constructor(dbPath: string) {
    this.#db = new Database(dbPath, { readonly: true, fileMustExist: true });
  }

  /** A batch query: `sql` must use `json_each(?)` for the keys. */
  batch<Row>(sql: string): (keys: readonly (string | number)[]) => Row[] {
    const statement = this.#db.prepare(sql);
    return (keys) => {
      this.#statements += 1;
      return statement.all(JSON.stringify(keys)) as Row[];
    };
  }

  queryCount(): number {
    return this.#statements;
  }

  close(): void {
    this.#db.close();
  }
}

/** Rows grouped under each asked key, in row order; keys without rows get an empty list. */
export function groupByKey<K, Row, Value = Row>(keys: readonly K[], rows: readonly Row[], keyOf: (row: Row) => K, valueOfRow: (row: Row) => Value = (row) => row as unknown as Value): Map<K, Value[]> {
  const groups = new Map<K, Value[]>();
  for (const key of keys) groups.set(key, []);
  for (const row of rows) groups.get(keyOf(row))?.push(valueOfRow(row));
  return groups;
}
