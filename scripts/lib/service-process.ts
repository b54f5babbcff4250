import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { findFreePort } from './free-port';
import { sleep, stopChild } from './redis-server';

const REPO_ROOT = resolve(__dirname, '../..');
const OUTPUT_LIMIT = 64_000;

/** The clustering service running as a child process of a script. */
export interface ServiceProcess {
  baseUrl: string;
  port: number;
  child: ChildProcess;
  /** The last ~64 kB the service wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartServiceOptions {
  redisUrl: string;
  /** A free port when absent. */
  port?: number;
  /** Further environment variables for the service (they win over the script's own). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** The service failed to become ready; `output` holds what it printed. */
export class ServiceStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'ServiceStartError';
  }
}

/** Node arguments that run `src/main.ts` through ts-node (no build step needed). */
export const TS_NODE_ENTRY: readonly string[] = [
  '-r',
  'ts-node/register/transpile-only',
  'src/main.ts',
];

/**
 * Runs `src/main.ts` through ts-node (no build step needed) and resolves once
 * `GET /health/ready` answers 200.
 */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  return spawnService(TS_NODE_ENTRY, options);
}

/**
 * Starts the service as `node {nodeArgs}` in the repository root and resolves once
 * `GET /health/ready` answers 200 (within `options.readyTimeoutMs`, 30 s by default).
 */
export async function spawnService(
  nodeArgs: readonly string[],
  options: StartServiceOptions,
): Promise<ServiceProcess> {
  const port = options.port ?? (await findFreePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      REDIS_URL: options.redisUrl,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_LIMIT));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const service: ServiceProcess = {
    baseUrl,
    port,
    child,
    output: () => output,
    stop: async (graceMs = 10_000) => {
      process.off('exit', killOnExit);
      return stopChild(child, graceMs);
    },
  };
  try {
    await waitForHttpOk(`${baseUrl}/health/ready`, {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      gaveUp: () =>
        child.exitCode !== null || child.signalCode !== null
          ? `the service exited (${child.exitCode ?? child.signalCode}) before it was ready`
          : undefined,
    });
  } catch (error) {
    await service.stop(2000);
    throw new ServiceStartError((error as Error).message, output);
  }
  return service;
}

export interface WaitForHttpOkOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between attempts: a reason to stop waiting early (e.g. the server died). */
  gaveUp?: () => string | undefined;
}

/** Polls `url` until it answers 2xx; rejects with the last status or error after the timeout. */
export async function waitForHttpOk(url: string, options: WaitForHttpOkOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    const reason = options.gaveUp?.();
    if (reason) throw new Error(`${url}: ${reason}`);
    if (Date.now() > deadline) {
      throw new Error(`${url} not ready after ${options.timeoutMs / 1000} s (last: ${last})`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}
