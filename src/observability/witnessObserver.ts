import type { WitnessingEvent } from '../audit/witnessing.js';
import { describeStoreFailure } from './accessLogObserver.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

/**
 * Follows the witnessing of tree heads into metrics and the process log. Every witness's part in
 * every round is counted (gateway_witness_cosign_total); the process log, like the access log's
 * outage lines, says when something starts going wrong and when it is right again, not once per
 * tree head: a witness that is down would otherwise write a line a second.
 *
 * What is logged: witness names, chain ids, tree sizes, HTTP status, the witness's short answer,
 * a store error's class and code. A tree head holds no personal data, and neither do these.
 */
export function witnessObserver(options: { readonly metrics: GatewayMetrics; readonly logger: Logger }): (event: WitnessingEvent) => void {
  const { metrics, logger } = options;
  /** Per witness: the failure it is in (outcome and status) and how many rounds it has failed. */
  const failing = new Map<string, { readonly outcome: string; readonly status: number | null; rounds: number }>();
  const storeFailing = new Map<string, number>();
  const quorumLost = new Set<string>();
  const largest = new Map<string, number>();

  return (event) => {
    if (event.type === 'witness-refused') {
      metrics.witnessCosigns.inc({ witness: event.witness, outcome: event.outcome });
      const current = failing.get(event.witness);
      if (current && current.outcome === event.outcome && current.status === event.status) {
        current.rounds += 1;
        return;
      }
      failing.set(event.witness, { outcome: event.outcome, status: event.status, rounds: 1 });
      logger.warn(
        { event: 'witness-refused', witness: event.witness, chainId: event.chainId, size: event.size, outcome: event.outcome, status: event.status, reason: event.reason },
        event.outcome === 'refused'
          ? 'a witness refused to cosign a tree head; later refusals of the same kind are counted in gateway_witness_cosign_total, not logged'
          : 'a witness did not cosign a tree head; later failures of the same kind are counted in gateway_witness_cosign_total, not logged',
      );
      return;
    }
    if (event.type === 'cosign-failed') {
      for (const witness of event.witnesses) metrics.witnessCosigns.inc({ witness, outcome: 'not-stored' });
      const rounds = storeFailing.get(event.chainId);
      storeFailing.set(event.chainId, (rounds ?? 0) + 1);
      if (rounds === undefined) {
        logger.error(
          { event: 'witness-cosignatures-not-stored', chainId: event.chainId, size: event.size, witnesses: event.witnesses, ...describeStoreFailure(event.error) },
          'cosignatures could not be stored with their tree head; the next tree head gathers fresh ones',
        );
      }
      return;
    }
    // cosigned: a round ended and what it gathered is stored.
    const stored = storeFailing.get(event.chainId);
    if (stored !== undefined) {
      storeFailing.delete(event.chainId);
      logger.warn({ event: 'witness-cosignatures-stored-again', chainId: event.chainId, size: event.size, failedRounds: stored }, 'cosignatures are stored again');
    }
    for (const witness of event.witnesses) {
      metrics.witnessCosigns.inc({ witness, outcome: 'cosigned' });
      const key = `${witness}\u0000${event.chainId}`;
      if (event.size > (largest.get(key) ?? 0)) {
        largest.set(key, event.size);
        metrics.witnessCosignedSize.set({ witness, chain: event.chainId }, event.size);
      }
      const was = failing.get(witness);
      if (was) {
        failing.delete(witness);
        logger.warn({ event: 'witness-cosigns-again', witness, chainId: event.chainId, size: event.size, failedRounds: was.rounds }, 'a witness cosigns again');
      }
    }
    metrics.witnessQuorumMet.set({ chain: event.chainId }, event.quorumMet ? 1 : 0);
    if (!event.quorumMet && !quorumLost.has(event.chainId)) {
      quorumLost.add(event.chainId);
      logger.error(
        { event: 'witness-quorum-missing', chainId: event.chainId, size: event.size, witnesses: event.witnesses },
        "the chain's newest tree head lacks the witness quorum: citizen reports prove against an older checkpoint until it is met again",
      );
    } else if (event.quorumMet && quorumLost.delete(event.chainId)) {
      logger.warn({ event: 'witness-quorum-met', chainId: event.chainId, size: event.size, witnesses: event.witnesses }, 'the witness quorum is met again');
    }
  };
}
