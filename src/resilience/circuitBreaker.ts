export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before one trial call is let through. */
  readonly resetMs: number;
  readonly now?: () => number;
  readonly onStateChange?: (state: CircuitState) => void;
}

/**
 * A circuit breaker for one dependency: a subgraph, or the Redis connection. While it is down or
 * hung, every request would otherwise wait out the full timeout; once the circuit is open, the
 * gateway answers at once (AGENCY_UNAVAILABLE for a subgraph; for Redis, the rate limiter decides
 * in-process and the replay cache refuses) and lets one trial call through every `resetMs`,
 * closing again on its success: recovery needs no restart.
 *
 * Our own thirty lines rather than a library such as opossum: opossum wraps a function and
 * times it itself, while the timeout here already belongs to the transport (per subgraph, an
 * AbortSignal on the fetch), and its rolling-window statistics run on timers, which would make
 * its state depend on wall-clock time in tests. This one is driven only by call outcomes and an
 * injectable clock, and adds no dependency to the request path.
 */
export class CircuitBreaker {
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;
  readonly #now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) throw new TypeError('failureThreshold must be a positive integer');
    if (!Number.isInteger(options.resetMs) || options.resetMs < 1) throw new TypeError('resetMs must be a positive integer');
    this.#now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** Milliseconds until an open circuit lets its next trial call through; 0 unless open. */
  msUntilTrial(): number {
    return this.#state === 'open' ? Math.max(0, this.options.resetMs - (this.#now() - this.#openedAt)) : 0;
  }

  /** Whether a call may go out now. In half-open state only one trial call at a time may. */
  tryAcquire(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') {
      if (this.#now() - this.#openedAt < this.options.resetMs) return false;
      this.#set('half-open');
    }
    if (this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  /** The call never went out (the gateway could not prepare it): a trial it held is given back, and the dependency's record is unchanged. */
  release(): void {
    if (this.#state === 'half-open') this.#trialInFlight = false;
  }

  /** The call answered (even with GraphQL errors: the agency is up). */
  success(): void {
    this.#failures = 0;
    if (this.#state === 'half-open') {
      this.#trialInFlight = false;
      this.#set('closed');
    }
  }

  /** The call failed at the transport: refused, reset, timed out or answered with a non-GraphQL status. */
  failure(): void {
    if (this.#state === 'half-open') {
      this.#trialInFlight = false;
      this.#open();
      return;
    }
    if (this.#state === 'open') return;
    this.#failures += 1;
    if (this.#failures >= this.options.failureThreshold) this.#open();
  }

  #open(): void {
    this.#failures = 0;
    this.#openedAt = this.#now();
    this.#set('open');
  }

  #set(state: CircuitState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.options.onStateChange?.(state);
  }
}
