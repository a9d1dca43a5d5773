/**
 * Closed-loop load at a fixed concurrency over keep-alive connections (undici): `concurrency`
 * workers each send a request, wait for the whole answer, and send the next. Requests/s and
 * latency percentiles come from the answers completed inside the round.
 */
import { type Agent, request } from 'undici';

export interface RoundResult {
  readonly requests: number;
  readonly seconds: number;
  /** Answers with an unexpected HTTP status. */
  readonly failures: number;
  readonly latenciesMs: number[];
  /** True when the request supplier ran dry before the round's time was up. */
  readonly exhausted: boolean;
}

export interface LoadTarget {
  readonly url: string;
  readonly dispatcher: Agent;
  readonly body: string;
  readonly expectedStatus: number;
  /** Headers for the next request (a fresh request token for ours); undefined when there are none left. */
  nextHeaders(): Record<string, string> | undefined;
}

export async function runRound(target: LoadTarget, concurrency: number, seconds: number): Promise<RoundResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  let exhausted = false;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const headers = target.nextHeaders();
        if (!headers) {
          exhausted = true;
          return;
        }
        const t0 = performance.now();
        const response = await request(target.url, { method: 'POST', dispatcher: target.dispatcher, headers, body: target.body });
        await response.body.arrayBuffer();
        latenciesMs.push(performance.now() - t0);
        if (response.statusCode !== target.expectedStatus) failures += 1;
      }
    }),
  );
  return { requests: latenciesMs.length, seconds: (performance.now() - started) / 1000, failures, latenciesMs, exhausted };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
