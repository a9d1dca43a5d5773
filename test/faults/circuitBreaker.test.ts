import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from '../../src/resilience/circuitBreaker.js';

function breaker(now: { t: number }, states: CircuitState[] = []) {
  return new CircuitBreaker({ failureThreshold: 3, resetMs: 1000, now: () => now.t, onStateChange: (s) => states.push(s) });
}

describe('circuit breaker', () => {
  it('opens after the threshold of consecutive failures and refuses calls while open', () => {
    const now = { t: 0 };
    const states: CircuitState[] = [];
    const b = breaker(now, states);
    for (let i = 0; i < 2; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('closed');
    b.tryAcquire();
    b.failure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now.t = 999;
    expect(b.tryAcquire()).toBe(false);
    expect(states).toEqual(['open']);
  });

  it('a success resets the count of consecutive failures', () => {
    const b = breaker({ t: 0 });
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
  });

  it('lets one trial call through after resetMs and closes on its success', () => {
    const now = { t: 0 };
    const states: CircuitState[] = [];
    const b = breaker(now, states);
    for (let i = 0; i < 3; i++) b.failure();
    now.t = 1000;
    expect(b.tryAcquire()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(false);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('reopens when the trial call fails, for another resetMs', () => {
    const now = { t: 0 };
    const b = breaker(now);
    for (let i = 0; i < 3; i++) b.failure();
    now.t = 1500;
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    now.t = 2400;
    expect(b.tryAcquire()).toBe(false);
    now.t = 2500;
    expect(b.tryAcquire()).toBe(true);
  });

  it('tells how long an open circuit refuses before its next trial call', () => {
    const now = { t: 0 };
    const b = breaker(now);
    expect(b.msUntilTrial()).toBe(0);
    for (let i = 0; i < 3; i++) b.failure();
    now.t = 400;
    expect(b.msUntilTrial()).toBe(600);
    now.t = 1000;
    expect(b.msUntilTrial()).toBe(0);
    expect(b.tryAcquire()).toBe(true);
    expect(b.msUntilTrial()).toBe(0);
  });

  it('rejects nonsensical options with a TypeError', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, resetMs: 10 })).toThrow(TypeError);
    expect(() => new CircuitBreaker({ failureThreshold: 1, resetMs: 1.5 })).toThrow(TypeError);
  });
});
