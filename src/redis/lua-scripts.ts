import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Keyspace } from './keyspace';

/**
 * The service's Lua scripts: one `.lua` file each beside this module, loaded once per client.
 * `keyspace`: the script names item or cluster keys by the layout (`-- @include keyspace`), and
 * runScript appends the layout's descriptor as its last ARGV.
 */
const SCRIPTS = {
  releaseLock: { file: 'release-lock.lua', keys: 1 },
  extendLock: { file: 'extend-lock.lua', keys: 1 },
  persistBatch: { file: 'persist-batch.lua', keys: 12, keyspace: true },
  takeSummaryToken: { file: 'take-summary-token.lua', keys: 1 },
  claimSummary: { file: 'claim-summary.lua', keys: 2 },
  completeSummary: { file: 'complete-summary.lua', keys: 5, keyspace: true },
  mergeClusters: { file: 'merge-clusters.lua', keys: 11, keyspace: true },
  moveItems: { file: 'move-items.lua', keys: 11, keyspace: true },
  renewClaims: { file: 'renew-claims.lua', keys: 1 },
  reembedCluster: { file: 'reembed-cluster.lua', keys: 6, keyspace: true },
  claimJob: { file: 'claim-job.lua', keys: 2 },
  updateJob: { file: 'update-job.lua', keys: 2 },
  redispatchJob: { file: 'redispatch-job.lua', keys: 2 },
  replayDeadLetters: { file: 'replay-dead-letters.lua', keys: 2, keyspace: true },
  releaseParked: { file: 'release-parked.lua', keys: 2, keyspace: true },
  // Key counts vary (one key per item; an optional external-id key): sent before the keys.
  adoptUnannounced: { file: 'adopt-unannounced.lua', keys: undefined },
  requeueItems: { file: 'requeue-items.lua', keys: undefined },
  writeFeedback: { file: 'write-feedback.lua', keys: undefined },
  enqueueAlert: { file: 'enqueue-alert.lua', keys: 3 },
  claimAlerts: { file: 'claim-alerts.lua', keys: 2 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const sources = new Map<ScriptName, string>();

/** A script's text with its `-- @include <name>` lines replaced by `lua/includes/<name>.lua`. */
function source(name: ScriptName): string {
  let text = sources.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, 'lua', SCRIPTS[name].file), 'utf8').replace(
      /^-- @include ([a-z-]+)$/gm,
      (_, include: string) =>
        readFileSync(join(__dirname, 'lua', 'includes', `${include}.lua`), 'utf8'),
    );
    sources.set(name, text);
  }
  return text;
}

const defined = new WeakSet<Redis>();

/** Registers every script as a command of `redis` (once per client; pipelines inherit them). */
export function defineScripts(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const [scriptName, script] of Object.entries(SCRIPTS)) {
    redis.defineCommand(scriptName, {
      numberOfKeys: script.keys,
      lua: source(scriptName as ScriptName),
    });
  }
  defined.add(redis);
}

/**
 * Runs one of our scripts. ioredis sends EVALSHA and falls back to EVAL once when the
 * server has not seen the script (after a restart or failover), so each is loaded once.
 */
export async function runScript(
  redis: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: ReadonlyArray<string | Buffer | number>,
  keyspace?: Keyspace,
): Promise<unknown> {
  defineScripts(redis);
  const script: { keys: number | undefined; keyspace?: boolean } = SCRIPTS[name];
  if (script.keyspace && !keyspace) throw new Error(`script ${name} needs the keyspace`);
  const command = (redis as unknown as Record<ScriptName, (...a: unknown[]) => Promise<unknown>>)[
    name
  ];
  // A script without a fixed key count takes the count as its first argument.
  const count = script.keys === undefined ? [keys.length] : [];
  const layout = script.keyspace && keyspace ? [keyspace.lua] : [];
  return command.call(redis, ...count, ...keys, ...args, ...layout);
}
