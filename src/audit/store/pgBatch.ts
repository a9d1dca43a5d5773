import type pg from 'pg';

/**
 * One simple-protocol query string whose COPY ... FROM STDIN statements get their data in the
 * same write, so a whole batch (BEGIN, the COPYs, the head move, COMMIT) costs one round trip
 * instead of one per statement and two per COPY. The server reads the protocol in order: each
 * COPY finds its data already waiting, and what follows the COPYs in the string runs after them.
 *
 * `copies` are the data of the string's COPY statements, in order, in COPY text format, one per
 * COPY and none missing: a COPY given no data would take the next COPY's. If a statement fails,
 * the server skips the rest of the string and drops the copy data still to come (a CopyData or
 * CopyDone outside a COPY is ignored, per protocol), so the connection stays usable; an explicit
 * transaction the string opened is then left aborted for the caller to roll back.
 */
export function runCopyBatch(client: pg.ClientBase, text: string, copies: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    client.query(new CopyBatch(text, copies, (error) => (error ? reject(error) : resolve())));
  });
}

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'

/** pg's query interface (Submittable plus the handlers pg calls on the active query). */
class CopyBatch implements pg.Submittable {
  private settled = false;

  constructor(
    private readonly text: string,
    private readonly copies: readonly string[],
    private readonly done: (error: Error | null) => void,
  ) {}

  submit(connection: pg.Connection): void {
    const stream = connection.stream;
    stream.cork();
    connection.query(this.text);
    for (const copy of this.copies) {
      const data = Buffer.from(copy, 'utf8');
      if (data.length > 0) {
        const header = Buffer.allocUnsafe(5);
        header[0] = COPY_DATA;
        header.writeUInt32BE(data.length + 4, 1);
        stream.write(header);
        stream.write(data);
      }
      stream.write(Buffer.from([COPY_DONE, 0, 0, 0, 4]));
    }
    // The writes above leave as one.
    stream.uncork();
  }

  /** pg replaces this with its own when a query_timeout is set; it must exist. */
  callback(): void {}

  handleError(error: Error): void {
    this.settle(error);
  }

  handleReadyForQuery(): void {
    // Sent once the whole string has run (with COMMIT in it: once the commit is durable).
    this.settle(null);
  }

  handleCopyInResponse(): void {
    // The data went with the query.
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}

  private settle(error: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    this.callback();
    this.done(error);
  }
}
