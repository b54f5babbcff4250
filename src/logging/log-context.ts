import { PinoLogger } from 'nestjs-pino';
import { Store, storage } from 'nestjs-pino/storage';

/**
 * Runs `work` with `fields` (a batch or job id) on every log line written inside it, by any
 * Nest `Logger`, however deep: nestjs-pino reads the logger from this async context.
 */
export function withLogContext<T>(
  fields: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  // Outside an application (unit tests, scripts) there is no root logger: run as is.
  const parent = storage.getStore()?.logger ?? PinoLogger.root;
  if (!parent) return work();
  return storage.run(new Store(parent.child(fields)), work);
}
