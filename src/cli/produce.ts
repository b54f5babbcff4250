import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { Keyspace } from '../redis/keyspace';
import {
  FeedbackFileError,
  ParsedFeedbackFile,
  readFeedbackFile,
  seededShuffle,
} from '../feedback/feedback-file';
import {
  FeedbackValidationError,
  FeedbackWriter,
  NewFeedback,
  ValidFeedback,
  validateNewFeedback,
} from '../feedback/feedback-writer';

interface ProduceOptions {
  file?: string;
  source?: string;
  title?: string;
  body?: string;
  metadata?: string;
  externalId?: string;
  createdAt?: string;
  textColumn?: string;
  redisUrl: string;
  project?: string;
  event: boolean;
  rate?: number;
  shuffle?: boolean;
  seed?: number;
}

const FULL_SPEED_BATCH = 500;

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError('must be a positive number');
  }
  return number;
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('must be an integer');
  return Number(value);
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

const program = new Command()
  .name('produce')
  .description(
    "Writes feedback into Redis as the contract's producers do: from a .csv/.jsonl file, or one item.",
  )
  .option('--file <path>', 'a .csv (header row) or .jsonl file of feedback')
  .option('--source <name>', 'source of the one item, or the default for file rows without one')
  .option('--title <text>', 'title of the one item')
  .option('--body <text>', 'body of the one item')
  .option('--metadata <json>', 'metadata of the one item, a JSON object')
  .option('--external-id <id>', 'id of the one item in its source system (de-duplicates)')
  .option('--created-at <iso>', 'creation time of the one item, ISO 8601 with offset')
  .option('--text-column <name>', 'CSV column used as body when a row has no body')
  .option(
    '--redis-url <url>',
    'Redis URL, database index included',
    process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  )
  .option(
    '--project <id>',
    "write into this project's keys (KEY_LAYOUT=project, CONTRACT §7) instead of the flat ones",
  )
  .option('--no-event', 'write like an old producer: no feedback:events entry')
  .option('--rate <n>', 'items per second (default: as fast as Redis takes them)', positiveNumber)
  .option('--shuffle', 'write the file rows in random order')
  .option('--seed <n>', 'seed for --shuffle (default: random, printed)', integer)
  .showHelpAfterError()
  .action(async (options: ProduceOptions) => {
    process.exitCode = await produce(options);
  });

async function produce(options: ProduceOptions): Promise<number> {
  const singleItemFlags = [options.title, options.body, options.metadata, options.externalId];
  if (options.file && singleItemFlags.some((flag) => flag !== undefined)) {
    return fail('use either --file or --title/--body/--metadata/--external-id, not both');
  }
  let input: ParsedFeedbackFile;
  try {
    input = options.file
      ? await readFeedbackFile(options.file, {
          defaultSource: options.source,
          textColumn: options.textColumn,
        })
      : { rows: [{ line: 0, feedback: singleItem(options) }], rejected: [] };
  } catch (error) {
    if (error instanceof FeedbackFileError || error instanceof FeedbackValidationError) {
      return fail(error.message);
    }
    throw error;
  }

  const seed = options.seed ?? Date.now() % 2 ** 31;
  const rows = options.shuffle ? seededShuffle(input.rows, seed) : input.rows;
  const redis = new Redis(options.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // ioredis reports the cause (e.g. ECONNREFUSED) as an event, connect() only says "closed".
  let connectionError: unknown;
  redis.on('error', (error) => (connectionError ??= error));
  try {
    await redis.connect();
  } catch (error) {
    const cause = connectionError instanceof Error ? connectionError : error;
    return fail(`cannot connect to Redis at ${redactUrl(options.redisUrl)}: ${String(cause)}`);
  }

  try {
    const started = Date.now();
    const outcomes = await writePaced(
      new FeedbackWriter(
        redis,
        options.project === undefined ? Keyspace.flat() : Keyspace.project(options.project),
      ),
      rows.map((row) => row.feedback),
      options,
    );
    const seconds = (Date.now() - started) / 1000;
    const created = outcomes.filter((o) => o.created);
    const duplicates = outcomes.length - created.length;

    if (!options.file && created.length === 1) {
      console.log(`Wrote feedback ${created[0].id}`);
    } else if (!options.file) {
      console.log(
        `Already known: feedback ${outcomes[0].id} has this external id; nothing written`,
      );
    } else {
      console.log(
        `${options.file}: ${input.rows.length + input.rejected.length} rows, ` +
          `${created.length} written, ${duplicates} duplicates skipped (known external id), ` +
          `${input.rejected.length} rejected — ${seconds.toFixed(1)} s, ` +
          (options.shuffle ? `shuffled with --seed ${seed}, ` : '') +
          `${options.event ? 'with' : 'without'} stream events, into ${redactUrl(options.redisUrl)}`,
      );
      for (const { line, reason } of input.rejected) console.log(`  line ${line}: ${reason}`);
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}

function singleItem(options: ProduceOptions): ValidFeedback {
  if (!options.source) throw new FeedbackValidationError(['--source is required (or --file)']);
  let metadata: unknown;
  if (options.metadata !== undefined) {
    try {
      metadata = JSON.parse(options.metadata);
    } catch {
      throw new FeedbackValidationError(['--metadata is not valid JSON']);
    }
  }
  return validateNewFeedback({
    source: options.source,
    title: options.title,
    body: options.body,
    createdAt: options.createdAt,
    externalId: options.externalId,
    metadata,
  });
}

/** Writes in pipelined chunks; with --rate, chunks of a tenth of a second, spaced to keep the rate. */
async function writePaced(
  writer: FeedbackWriter,
  items: NewFeedback[],
  options: ProduceOptions,
): Promise<{ id: string; created: boolean }[]> {
  const chunkSize = options.rate ? Math.max(1, Math.ceil(options.rate / 10)) : FULL_SPEED_BATCH;
  const results: { id: string; created: boolean }[] = [];
  const started = Date.now();
  for (let start = 0; start < items.length; start += chunkSize) {
    const outcomes = await writer.writeMany(items.slice(start, start + chunkSize), {
      emitEvent: options.event,
    });
    // Items were validated when read, so every outcome is a write.
    for (const outcome of outcomes) if (outcome.ok) results.push(outcome);
    if (options.rate) {
      const due = started + ((start + chunkSize) / options.rate) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
  }
  return results;
}

function fail(message: string): number {
  console.error(`produce: ${message}`);
  return 1;
}

program.parseAsync().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
