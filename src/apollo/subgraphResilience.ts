import type { SubgraphFaultLimits } from '../config/limitsConfig.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { CircuitBreaker } from '../resilience/circuitBreaker.js';
import type { SubgraphCallObserver } from './agencyDataSource.js';

/** One circuit breaker per subgraph, and the observer that turns subgraph calls into metrics and log lines. */
export function subgraphResilience(options: { readonly limits: SubgraphFaultLimits; readonly metrics: GatewayMetrics; readonly logger: Logger }) {
  const breakers = new Map<string, CircuitBreaker>();
  const observer: SubgraphCallObserver = {
    call(subgraph, outcome, durationMs, graphqlErrors) {
      options.metrics.subgraphSeconds.observe({ subgraph, outcome: outcome === 'ok' ? 'ok' : outcome === 'circuit-open' ? 'refused' : 'failed' }, durationMs / 1000);
      if (outcome !== 'ok') options.metrics.subgraphErrors.inc({ subgraph, reason: outcome });
      if (graphqlErrors > 0) options.metrics.subgraphErrors.inc({ subgraph, reason: 'graphql' }, graphqlErrors);
      if (outcome !== 'ok' && outcome !== 'circuit-open') options.logger.warn({ subgraph, reason: outcome, durationMs: Math.round(durationMs) }, 'subgraph call failed');
    },
  };
  return {
    observer,
    breaker(subgraph: string): CircuitBreaker {
      let breaker = breakers.get(subgraph);
      if (!breaker) {
        breaker = new CircuitBreaker({
          failureThreshold: options.limits.breakerFailures,
          resetMs: options.limits.breakerResetMs,
          onStateChange: (state) => {
            options.metrics.setCircuitState(subgraph, state);
            options.logger[state === 'closed' ? 'info' : 'warn']({ subgraph, state }, `subgraph circuit ${state}`);
          },
        });
        breakers.set(subgraph, breaker);
        options.metrics.setCircuitState(subgraph, 'closed');
      }
      return breaker;
    },
    timeoutMs(subgraph: string, fallback: number): number {
      return options.limits.timeoutsMs.get(subgraph) ?? fallback;
    },
  };
}
