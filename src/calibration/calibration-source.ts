import { Logger } from '@nestjs/common';
import { Embedder } from '../ports/embedder.port';
import { Calibration } from './calibration';
import { CalibrationStore } from './calibration.store';
import { REFERENCE_TEXTS } from './reference-texts';

/**
 * The calibration the assign stage judges a batch on: the model's stored one, refined with the
 * batch's own items. A model seen for the first time starts from the vectors of
 * `REFERENCE_TEXTS` (one embedding call, made before the assignment lock is taken), so that even
 * its very first items are centred on more than themselves; without them (the embedder failed)
 * it starts from the batch alone.
 */
export class CalibrationSource {
  private readonly logger = new Logger(CalibrationSource.name);
  /** Set once the model is known to have a stored calibration: no more checks or seeds. */
  private stored = false;
  private seed: Calibration | undefined;

  constructor(
    private readonly store: CalibrationStore,
    private readonly embedder: Embedder,
  ) {}

  /** Outside the lock: embeds the reference texts if the model has no calibration yet. */
  async prepare(): Promise<void> {
    if (this.stored || this.seed) return;
    if ((await this.store.load(this.embedder.model)).count > 0) {
      this.stored = true;
      return;
    }
    const outcomes = await this.embedder.embed(REFERENCE_TEXTS).catch((error: unknown) => {
      this.logger.warn(
        `reference texts not embedded, calibrating on items alone: ${String(error)}`,
      );
      return [];
    });
    const vectors = outcomes.flatMap((o) => (o.ok ? [o.vector] : []));
    if (vectors.length > 0) this.seed = Calibration.none.withItems(vectors);
  }

  /** Under the lock: the stored calibration (or the seed) refined with the batch's vectors. */
  async current(batch: readonly Float32Array[]): Promise<Calibration> {
    const stored = await this.store.load(this.embedder.model);
    const base = stored.count > 0 ? stored : (this.seed ?? Calibration.none);
    return base.withItems(batch);
  }

  /** Under the lock, after the batch is persisted. */
  async save(calibration: Calibration): Promise<void> {
    await this.store.save(this.embedder.model, calibration);
    this.stored = true;
    this.seed = undefined;
  }
}
