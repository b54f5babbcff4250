import Redis from 'ioredis';
import { Keyspace } from '../redis/keyspace';
import { Calibration } from './calibration';

/**
 * Keeps each embedding model's calibration in Redis (`clustering:calibration:{model}`), shared
 * by every replica and kept across restarts. Writers hold the assignment lock, so reading,
 * refining and saving is one step across replicas.
 */
export class CalibrationStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  async load(model: string): Promise<Calibration> {
    const [sum, count] = await this.redis.hmgetBuffer(
      this.keys.service.calibration(model),
      'sum',
      'count',
    );
    if (!sum || !count || sum.length % 8 !== 0) return Calibration.none;
    const values = new Float64Array(sum.length / 8);
    for (let i = 0; i < values.length; i++) values[i] = sum.readDoubleLE(i * 8);
    return new Calibration(values, Number(count.toString()));
  }

  async save(model: string, calibration: Calibration): Promise<void> {
    const sum = Buffer.allocUnsafe(calibration.sum.length * 8);
    calibration.sum.forEach((value, i) => sum.writeDoubleLE(value, i * 8));
    await this.redis.hset(this.keys.service.calibration(model), {
      sum,
      count: calibration.count,
      updated_at: new Date().toISOString(),
    });
  }

  /** Forgets a model's calibration (re-embedding rebuilds it from scratch). */
  async reset(model: string): Promise<void> {
    await this.redis.del(this.keys.service.calibration(model));
  }
}
