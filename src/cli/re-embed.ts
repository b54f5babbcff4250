import 'reflect-metadata';
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { loadEnvironment } from '../config/environment';
import { ItemVectorStorage } from '../item-vectors/item-vectors';
import { Embedder } from '../ports/embedder.port';
import { createEmbedder } from '../providers/providers.module';
import { reEmbed } from '../providers/reembed/re-embedder';

interface ReEmbedCliOptions {
  redisUrl: string;
  itemsPerCall: number;
  maxTextChars: number;
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return Number(value);
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

const program = new Command()
  .name('re-embed')
  .description(
    'Rebuilds item vectors, centroids and anchors of every live cluster with the configured ' +
      'embedder (GEMINI_API_KEY, EMBEDDING_DIMENSIONS), so vectors of two models never mix. ' +
      'Stop the workers first; an interrupted run resumes where it stopped.',
  )
  .option(
    '--redis-url <url>',
    'Redis URL, database index included',
    process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  )
  .option('--items-per-call <n>', 'texts gathered per embed call', positiveInteger, 500)
  .option(
    '--max-text-chars <n>',
    "as the service's MAX_TEXT_CHARS",
    positiveInteger,
    Number(process.env.MAX_TEXT_CHARS ?? 4000),
  )
  .showHelpAfterError()
  .action(async (options: ReEmbedCliOptions) => {
    process.exitCode = await run(options);
  });

async function run(options: ReEmbedCliOptions): Promise<number> {
  let embedder: Embedder;
  let itemVectorStorage: ItemVectorStorage;
  try {
    // The same embedder the service would choose, from the same validated variables.
    const env = loadEnvironment();
    embedder = createEmbedder(env);
    itemVectorStorage = env.ITEM_VECTORS;
  } catch (error) {
    console.error(`re-embed: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
  } catch (error) {
    console.error(
      `re-embed: cannot connect to Redis at ${redactUrl(options.redisUrl)}: ${String(error)}`,
    );
    return 2;
  }
  const bar = new SingleBar(
    {
      format: `re-embed to ${embedder.model} [{bar}] {value}/{total} clusters, {eta_formatted} left`,
    },
    Presets.shades_classic,
  );
  try {
    bar.start(0, 0);
    const report = await reEmbed({
      redis,
      embedder,
      itemsPerCall: options.itemsPerCall,
      maxTextChars: options.maxTextChars,
      itemVectorStorage,
      onProgress: ({ processed, total }) => {
        bar.setTotal(total);
        bar.update(processed);
      },
    });
    bar.stop();
    console.log(
      `${report.clusters} clusters: ${report.converted} converted, ${report.alreadyDone} done before, ` +
        `${report.failed.length} failed; ${report.itemsEmbedded} items embedded, ` +
        `${report.itemsReused} reused, ${report.itemsWithoutText} without text`,
    );
    for (const { clusterId, reason } of report.failed.slice(0, 20)) {
      console.error(`  cluster ${clusterId}: ${reason}`);
    }
    if (report.failed.length > 0) console.error('Run again to retry the failed clusters.');
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    bar.stop();
    await redis.quit();
  }
}

program.parseAsync().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
