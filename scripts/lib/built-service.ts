import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ServiceProcess,
  spawnService,
  startService,
  StartServiceOptions,
  TS_NODE_ENTRY,
} from './service-process';

export const REPO_ROOT = resolve(__dirname, '../..');

/** How to run the service: compiled into a private folder, the shared `dist/`, or ts-node. */
export type ServiceMode = 'build' | 'dist' | 'ts-node';

/**
 * Compiles `src/` (tsconfig.build.json) into `outDir` with the Lua scripts beside their
 * modules, without touching the shared `dist/` (whose `nest build` empties it first, under
 * anyone else running from it). `outDir` must be inside the repository so that
 * `node_modules` resolves. Returns the path of `main.js`; type errors are reported in
 * `warnings` (JavaScript is emitted anyway).
 */
export function buildServiceInto(outDir: string): { mainPath: string; warnings: string } {
  rmSync(outDir, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO_ROOT] });
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, '--sourceMap', 'true'],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  const mainPath = join(outDir, 'main.js');
  if (!existsSync(mainPath)) {
    throw new Error(`could not compile the service:\n${result.stdout}${result.stderr}`);
  }
  copyLuaScripts(join(REPO_ROOT, 'src'), outDir);
  return { mainPath, warnings: result.status === 0 ? '' : `${result.stdout}${result.stderr}` };
}

/**
 * The compiled service to run: `dist/main.js` when `npm run build` made it after the last
 * change under `src/` (as in CI), else `src/` compiled into `outDir` (see buildServiceInto).
 */
export function freshBuildOr(outDir: string): string {
  const distMain = join(REPO_ROOT, 'dist', 'main.js');
  if (existsSync(distMain) && statSync(distMain).mtimeMs >= newestChange(join(REPO_ROOT, 'src'))) {
    return distMain;
  }
  return buildServiceInto(outDir).mainPath;
}

function newestChange(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function copyLuaScripts(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isDirectory()) copyLuaScripts(source, join(to, entry.name));
    else if (entry.name.endsWith('.lua')) {
      mkdirSync(to, { recursive: true });
      copyFileSync(source, join(to, entry.name));
    }
  }
}

export interface StartNodeServiceOptions extends StartServiceOptions {
  /** Compiled entry point (e.g. `dist/main.js`); ts-node on `src/main.ts` when absent. */
  mainPath?: string;
  /** Flags for node itself, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}

/**
 * Starts the service as a direct `node` child (so its pid is the service's own, for
 * /proc readings) and resolves once `GET /health/ready` answers 200.
 */
export async function startNodeService(options: StartNodeServiceOptions): Promise<ServiceProcess> {
  if (!options.mainPath && !options.nodeArgs?.length) return startService(options);
  const entry = options.mainPath ? [options.mainPath] : TS_NODE_ENTRY;
  return spawnService([...(options.nodeArgs ?? []), ...entry], {
    ...options,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
  });
}

/** Memory of a running process from /proc (Linux), in bytes; undefined where unreadable. */
export interface ProcessMemory {
  rss?: number;
  /** Peak resident set size (VmHWM). */
  peakRss?: number;
}

export function readProcessMemory(pid: number | undefined): ProcessMemory {
  if (pid === undefined) return {};
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number | undefined => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    };
    return { rss: field('VmRSS'), peakRss: field('VmHWM') };
  } catch {
    return {};
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/{pid}/stat. */
export function readProcessCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerSecond = 100; // USER_HZ on Linux
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** Samples a process's resident set size every `intervalMs`; `stop()` returns the largest seen. */
export function sampleRss(pid: number | undefined, intervalMs = 200): { stop(): number } {
  let max = 0;
  const take = () => (max = Math.max(max, readProcessMemory(pid).rss ?? 0));
  take();
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return max;
    },
  };
}
