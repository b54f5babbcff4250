import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Cooperative time slicing for long synchronous loops (loading an index, planning a sweep):
 * `await slice.pause()` inside the loop gives the event loop a turn once `sliceMs` of work has
 * passed since the last one, so health checks, lock heartbeats and the stream keep running.
 * The service's bound is 100 ms of blocking; slices default to a fifth of it.
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs = 20) {}

  /** Resolves at once while the slice lasts; otherwise after the event loop had a turn. */
  async pause(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await nextTurn();
    this.started = performance.now();
  }
}
