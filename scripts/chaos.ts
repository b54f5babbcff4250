/**
 * Exactly-once under crashes and updates, measured through Redis and HTTP alone:
 *   npm run chaos [-- --replicas 3 --items 4000 --updates 100 --rate 200 --kill-every-ms 3000 --json out.json]
 * Starts several replicas as real processes on database 13 of `REDIS_URL` (or of a throwaway
 * redis-server), kills one with SIGKILL in a loop while items and updates arrive, runs a final
 * full sweep (POST /cluster-jobs, mode full), then checks every invariant of the contract's
 * "clustered" definition. Exits 0 when nothing was lost, doubled or left unfinished.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { freshBuildOr, REPO_ROOT } from './lib/built-service';
import { chaosHeld, runChaos } from './lib/chaos-run';
import { redactRedisUrl, withDatabase } from './lib/redis-server';
import { runScript } from './lib/run-script';
import { findOrStartRedis, RedisServer } from './lib/sample-run';

const CHAOS_DB = 13;

interface CliOptions {
  replicas: string;
  items: string;
  updates: string;
  rate: string;
  killEveryMs: string;
  settleTimeoutMs: string;
  json?: string;
}

let server: RedisServer | undefined;

async function main(): Promise<number> {
  const cli = new Command()
    .option('--replicas <n>', 'replicas running at once', '3')
    .option('--items <n>', 'items written', '4000')
    .option('--updates <n>', 'items re-written by their producer to another topic', '100')
    .option('--rate <n>', 'items written per second', '200')
    .option('--kill-every-ms <ms>', 'one replica is killed (SIGKILL) this often', '3000')
    .option('--settle-timeout-ms <ms>', 'time to settle after the last write', '180000')
    .option('--json <file>', 'also write the figures as JSON')
    .parse();
  const opts = cli.opts<CliOptions>();
  server = await findOrStartRedis();
  const redisUrl = withDatabase(server.url, CHAOS_DB);
  console.log(`chaos: database ${redactRedisUrl(redisUrl)} (flushed first); compiling the service`);
  const report = await runChaos({
    redisUrl,
    mainPath: freshBuildOr(join(REPO_ROOT, '.chaos', 'dist')),
    replicas: Number(opts.replicas),
    items: Number(opts.items),
    updates: Number(opts.updates),
    rate: Number(opts.rate),
    killEveryMs: Number(opts.killEveryMs),
    settleTimeoutMs: Number(opts.settleTimeoutMs),
    log: (line) => console.log(`chaos: ${line}`),
  });
  console.log(JSON.stringify(report, null, 2));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2));
  const held = chaosHeld(report);
  console.log(held ? 'chaos: every invariant held' : 'chaos: INVARIANTS BROKEN (see above)');
  return held ? 0 : 1;
}

runScript(main, async () => {
  await server?.throwaway?.stop();
});
