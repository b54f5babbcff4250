import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';

/** The service's Lua scripts: one `.lua` file each beside this module, loaded once per client. */
const SCRIPTS = {
  releaseLock: { file: 'release-lock.lua', keys: 1 },
  extendLock: { file: 'extend-lock.lua', keys: 1 },
  persistBatch: { file: 'persist-batch.lua', keys: 9 },
  mergeClusters: { file: 'merge-clusters.lua', keys: 6 },
  moveItems: { file: 'move-items.lua', keys: 5 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const sources = new Map<ScriptName, string>();

function source(name: ScriptName): string {
  let text = sources.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, 'lua', SCRIPTS[name].file), 'utf8');
    sources.set(name, text);
  }
  return text;
}

const defined = new WeakSet<Redis>();

/**
 * Runs one of our scripts. ioredis sends EVALSHA and falls back to EVAL once when the
 * server has not seen the script (after a restart or failover), so each is loaded once.
 */
export async function runScript(
  redis: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: ReadonlyArray<string | Buffer | number>,
): Promise<unknown> {
  if (!defined.has(redis)) {
    for (const [scriptName, script] of Object.entries(SCRIPTS)) {
      redis.defineCommand(scriptName, {
        numberOfKeys: script.keys,
        lua: source(scriptName as ScriptName),
      });
    }
    defined.add(redis);
  }
  const command = (redis as unknown as Record<ScriptName, (...a: unknown[]) => Promise<unknown>>)[
    name
  ];
  return command.call(redis, ...keys, ...args);
}
