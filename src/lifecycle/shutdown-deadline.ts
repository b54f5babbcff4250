import { INestApplication, Injectable, Logger } from '@nestjs/common';
import { Environment } from '../config/environment';

/** After the shared deadline, the process exits whatever is still running, this much later. */
const HARD_EXIT_GRACE_MS = 5_000;

/** Waits for `work` at most `ms`; true when it finished in time. */
export async function finishesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One shutdown deadline for the whole process (`SHUTDOWN_TIMEOUT_MS` from SIGTERM). Nest runs
 * the modules' shutdown hooks one after another; each waits only for what is left of this
 * deadline, so together they never take longer than it (ECS kills the task at 30 s).
 */
@Injectable()
export class ShutdownDeadline {
  private deadlineAt?: number;

  constructor(private readonly env: Environment) {}

  /** Starts the clock (once): at the signal, or when the first hook asks for its time. */
  start(): void {
    this.deadlineAt ??= Date.now() + this.env.SHUTDOWN_TIMEOUT_MS;
  }

  /** Milliseconds left before the deadline. */
  remainingMs(): number {
    this.start();
    return Math.max(0, (this.deadlineAt ?? 0) - Date.now());
  }

  /** Waits for `work` until the deadline; true when it finished in time. */
  async within(work: Promise<unknown>): Promise<boolean> {
    return finishesWithin(work, this.remainingMs());
  }
}

/**
 * On SIGTERM or SIGINT: start the deadline, close the application (every hook within it),
 * exit. Should anything hang past the deadline (a socket that will not close), the process
 * exits anyway shortly after: whatever it did not finish is pending in Redis for another replica.
 */
export function exitOnSignals(app: INestApplication): void {
  const logger = new Logger('Shutdown');
  const deadline = app.get(ShutdownDeadline);
  const env = app.get(Environment);
  const onSignal = (signal: NodeJS.Signals) => {
    deadline.start();
    logger.log(`${signal}: stopping within ${env.SHUTDOWN_TIMEOUT_MS} ms`);
    setTimeout(() => {
      logger.warn('shutdown deadline passed: exiting now');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS + HARD_EXIT_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ msg: 'shutdown failed', err: error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
