import { plainToInstance, Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  getMetadataStorage,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidateBy,
  ValidationError,
} from 'class-validator';
import { validateCronExpression } from 'cron';
import { KeyLayout, PROJECT_ID } from '../redis/keyspace';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && !isNaN(Number(value)) ? Number(value) : value;
const toBoolean = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};

const toIntList = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\s*\d+(\s*,\s*\d+)*\s*$/.test(value)
    ? value.split(',').map((n) => Number(n.trim()))
    : value;

/** A bare Gemini model id: it becomes part of the model name stored beside every vector. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MODEL_NAME_MESSAGE = 'must be a model id such as gemini-embedding-001 (no "models/" prefix)';

/**
 * Every setting of the service, read from the environment once at start-up.
 * Property names are the variable names; defaults are the embedded, no-keys setup.
 * Documented in the README ("Configuration").
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Bearer token required on POST endpoints; required when NODE_ENV=production. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  API_TOKEN?: string;

  @IsOptional()
  @IsUrl({ require_tld: false })
  BACKEND_URL?: string;

  // --- stream consumption ---
  @IsString()
  @Matches(/^[A-Za-z0-9:_.-]+$/, { message: 'may hold letters, digits and : _ . - only' })
  CONSUMER_GROUP = 'clustering';

  /** Defaults to `{hostname}-{pid}-{random}`: unique per process. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9:_.-]+$/, { message: 'may hold letters, digits and : _ . - only' })
  CONSUMER_NAME?: string;

  @Transform(toBoolean)
  @IsBoolean()
  CONSUMER_ENABLED = true;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5000)
  BATCH_MAX_ITEMS = 256;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(60000)
  BATCH_MAX_WAIT_MS = 50;

  /** Pending entries idle longer than this under another consumer are claimed. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  CLAIM_IDLE_MS = 60000;

  /** Deliveries after which an entry goes to the dead-letter stream. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  MAX_DELIVERIES = 5;

  /** Approximate cap on `feedback:events` length; only entries every group acknowledged are trimmed. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  STREAM_TRIM_INTERVAL_MS = 30000;

  /**
   * One deadline for the whole shutdown after SIGTERM, shared by every module's hook (the batch
   * in hand, the job, the sweep, summaries in flight); the process exits by then plus 5 s at
   * the latest (ECS kills it at 30 s).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(25000)
  SHUTDOWN_TIMEOUT_MS = 20000;

  // --- clustering ---
  // Every similarity threshold below is on the calibrated scale (README, "Calibration"): the
  // similarity after removing the embedding model's common direction, where unrelated texts
  // score about 0 and identical ones 1, whatever the model. One set of defaults fits every model.

  /** An item joins the cluster whose members it resembles most if that likeness reaches this. */
  @Transform(toNumber)
  @IsNumber()
  @Min(-1)
  @Max(1)
  JOIN_THRESHOLD = 0.22;

  /** An item joins a cluster only if it resembles the item the cluster was founded on this much. */
  @Transform(toNumber)
  @IsNumber()
  @Min(-1)
  @Max(1)
  ANCHOR_THRESHOLD = 0.1;

  /**
   * What JOIN_THRESHOLD is compared with: `members`, an item's mean similarity to the
   * cluster's members (keeps loose clusters from absorbing everything), or `centroid`,
   * cosine similarity to the centroid.
   */
  @IsIn(['members', 'centroid'])
  JOIN_RULE: 'members' | 'centroid' = 'members';

  /** How much the bar to join rises with a cluster's size (see assign-batch.ts); 0 turns it off. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(1)
  JOIN_GROWTH_PENALTY = 0.06;

  /**
   * Nearest clusters (by raw cosine, from the index) offered per item to the calibrated
   * decision: raw and calibrated rankings differ a little, so the decision sees more than a few.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  CANDIDATES_K = 30;

  /** Longest prepared text, in characters. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(100000)
  MAX_TEXT_CHARS = 4000;

  /**
   * The key layout (CONTRACT §7): `flat` (one project, the keys of §1-§2) or `project`
   * (every key scoped by project id, one deployment serving many projects). Keys of both are
   * built in `src/redis/keyspace.ts`.
   */
  @IsIn(['flat', 'project'])
  KEY_LAYOUT: KeyLayout = 'flat';

  /**
   * Item vectors in Redis: `auto` stores none for the local embedder (recomputed from text
   * when a sweep needs them) and int8 for hosted ones; `int8` always stores them.
   */
  @IsIn(['auto', 'int8'])
  ITEM_VECTORS: 'auto' | 'int8' = 'auto';

  /** Re-summarise a cluster once it grew by this fraction since its last summary. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(10)
  RESUMMARIZE_GROWTH = 0.25;

  // --- providers ---
  @IsOptional()
  @IsString()
  GEMINI_API_KEY?: string;

  @IsOptional()
  @IsString()
  GOOGLE_GENERATIVE_AI_API_KEY?: string;

  @IsOptional()
  @IsUrl({ require_tld: false })
  UPSTASH_VECTOR_REST_URL?: string;

  @IsOptional()
  @IsString()
  UPSTASH_VECTOR_REST_TOKEN?: string;

  // --- jobs ---
  @IsOptional()
  @Matches(/^[0-9a-fA-F-]{36}$/, { message: 'must be a UUID' })
  CLUSTER_JOB_ID?: string;

  /** The project of CLUSTER_JOB_ID's job (required with KEY_LAYOUT=project, unused otherwise). */
  @IsOptional()
  @Matches(PROJECT_ID, { message: 'must be a project id (UUID or CUID)' })
  CLUSTER_JOB_PROJECT_ID?: string;

  // --- job dispatch and full sweeps ---
  /** Run clustering jobs dispatched through `clustering:jobs` on this replica. */
  @Transform(toBoolean)
  @IsBoolean()
  JOBS_CONSUMER_ENABLED = true;

  /** A job left running this long by a silent replica is claimed by another. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  JOB_CLAIM_IDLE_MS = 60000;

  /** Deliveries of one job after which it is marked failed instead of run again. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  JOB_MAX_ATTEMPTS = 3;

  @Transform(toBoolean)
  @IsBoolean()
  SWEEP_ENABLED = true;

  /** When scheduled sweeps fire (cron, optional seconds field). */
  @ValidateBy({
    name: 'isCronExpression',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && validateCronExpression(value).valid,
      defaultMessage: () => 'must be a cron expression, e.g. "*/10 * * * *"',
    },
  })
  SWEEP_CRON = '*/10 * * * *';

  /** Expiry of the sweep lock; its holder extends it while running, so a dead holder frees it. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  SWEEP_LOCK_TTL_MS = 60000;

  /** Likeness across two clusters' members above which a sweep merges near-duplicates. */
  @Transform(toNumber)
  @IsNumber()
  @Min(-1)
  @Max(1)
  MERGE_THRESHOLD = 0.3;

  /**
   * Clusters of at most this many items that a sweep absorbs into the larger neighbour they
   * clearly belong to (0 turns absorption off).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  ABSORB_MAX_SIZE = 2;

  /**
   * Calibrated similarity (0 = unrelated, 1 = identical) between a small cluster's members and
   * a larger cluster's at which the sweep absorbs it; rises with the target's size like joins.
   */
  @Transform(toNumber)
  @IsNumber()
  @Min(-1)
  @Max(1)
  ABSORB_THRESHOLD = 0.15;

  /** How much closer (calibrated) an item must be to another cluster than to its own to move. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(2)
  MOVE_MARGIN = 0.15;

  /** Clustered items a sweep examines for a better cluster (0 turns moves off). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000000)
  SWEEP_MOVE_SCAN_LIMIT = 2000;

  /**
   * Changed clusters a sweep examines at most (in change-feed order); the next sweep goes on
   * from there.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000000)
  SWEEP_MAX_CLUSTERS = 50000;

  /** Summaries a sweep refreshes at most. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10000)
  SWEEP_MAX_SUMMARIES = 50;

  /** Finished job records older than this many days are removed by sweeps (0 keeps them all). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3650)
  JOB_RETENTION_DAYS = 30;

  // --- real providers (Gemini, Upstash Vector); used only with their keys set ---
  /** Replaces Google's endpoint, e.g. for a proxy, a regional endpoint or a local stand-in. */
  @IsOptional()
  @IsUrl({ require_tld: false })
  GEMINI_BASE_URL?: string;

  /** Size of Gemini embeddings (truncated output); an Upstash index must have the same. */
  @Transform(toInt)
  @IsInt()
  @Min(128)
  @Max(3072)
  EMBEDDING_DIMENSIONS = 768;

  @Matches(MODEL_NAME, { message: MODEL_NAME_MESSAGE })
  GEMINI_EMBED_MODEL = 'gemini-embedding-001';

  /** Embedding requests (of up to 100 texts) in flight at once per replica. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  GEMINI_EMBED_CONCURRENCY = 4;

  /** Per-attempt timeout of Gemini calls; when unset, 30 s for embeddings and 60 s for summaries. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600000)
  GEMINI_TIMEOUT_MS?: number;

  /** Retries of a Gemini call after a 429, 5xx or timeout; when unset, 4 for embeddings and 2 for summaries. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10)
  GEMINI_MAX_RETRIES?: number;

  @Matches(MODEL_NAME, { message: MODEL_NAME_MESSAGE })
  GEMINI_SUMMARY_MODEL = 'gemini-3.5-flash';

  /** Model summary requests per minute for the whole deployment (a token bucket in Redis). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  GEMINI_SUMMARIES_PER_MINUTE = 60;

  /** Per-attempt timeout of Upstash Vector calls. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120000)
  UPSTASH_TIMEOUT_MS = 10000;

  /** Also copy every item vector to Upstash's `items` namespace (nothing reads it; each is a billed update). */
  @Transform(toBoolean)
  @IsBoolean()
  UPSTASH_STORE_ITEM_VECTORS = false;

  // --- summary queue ---
  /** Work the summary queue on this replica. */
  @Transform(toBoolean)
  @IsBoolean()
  SUMMARY_WORKER_ENABLED = true;

  /** Summaries this replica writes at once (the deployment-wide rate limit still applies). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  SUMMARY_CONCURRENCY = 4;

  /** A claimed queue entry whose replica went silent this long is claimed by another. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3600000)
  SUMMARY_CLAIM_MS = 120000;

  // --- alerts (README, "Alerts") ---
  /** Where alerts are POSTed (JSON, signed); no alerts are detected or sent when unset. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  WEBHOOK_URL?: string;

  /** Key of the HMAC-SHA256 signature in each alert's `X-Alert-Signature`; required with WEBHOOK_URL. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  WEBHOOK_SECRET?: string;

  /** Cluster sizes that raise an alert when a cluster reaches them (once per cluster and size). */
  @Transform(toIntList)
  @IsArray({ message: 'must be a comma-separated list of sizes, e.g. 10,50,100' })
  @ArrayMaxSize(20)
  @IsInt({ each: true })
  @Min(1, { each: true })
  ALERT_SIZES: number[] = [10, 50, 100];

  /** Failed deliveries after which an alert is parked (`clustering:alerts:parked`). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  ALERT_MAX_ATTEMPTS = 8;

  /** Pause after an alert's first failed delivery; it doubles after each one (capped at 1 h). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(3600000)
  ALERT_RETRY_BASE_MS = 5000;

  /** How often the alert worker looks for changed clusters and due alerts. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(600000)
  ALERT_POLL_MS = 1000;
}

/** The Gemini key in use: `GEMINI_API_KEY` wins over `GOOGLE_GENERATIVE_AI_API_KEY`. */
export function geminiApiKey(env: Environment): string | undefined {
  return env.GEMINI_API_KEY ?? env.GOOGLE_GENERATIVE_AI_API_KEY;
}

/** Raised when the environment is invalid; its message names every bad variable. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** Validates the environment once. Throws ConfigurationError naming each bad variable. */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const input: Record<string, string> = {};
  for (const key of environmentVariableNames()) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const config = plainToInstance(Environment, input, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: false });
  const problems = errors.flatMap(describe);
  if (config.NODE_ENV === 'production' && !config.API_TOKEN) {
    problems.push('API_TOKEN: must be set when NODE_ENV=production (POST endpoints need a token)');
  }
  if (Boolean(config.UPSTASH_VECTOR_REST_URL) !== Boolean(config.UPSTASH_VECTOR_REST_TOKEN)) {
    problems.push(
      'UPSTASH_VECTOR_REST_URL, UPSTASH_VECTOR_REST_TOKEN: set both to use Upstash Vector, or neither',
    );
  }
  if (config.CLUSTER_JOB_ID && config.KEY_LAYOUT === 'project' && !config.CLUSTER_JOB_PROJECT_ID) {
    problems.push(
      'CLUSTER_JOB_PROJECT_ID: must be set with CLUSTER_JOB_ID when KEY_LAYOUT=project',
    );
  }
  if (config.WEBHOOK_URL && !config.WEBHOOK_SECRET) {
    problems.push('WEBHOOK_SECRET: must be set with WEBHOOK_URL (alerts are signed)');
  }
  if (problems.length > 0) {
    throw new ConfigurationError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return config;
}

/** The variable names, read from the validation decorators so the class is the only list. */
export function environmentVariableNames(): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(Environment, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

const SECRETS = new Set([
  'API_TOKEN',
  'GEMINI_API_KEY',
  'GOOGLE_GENERATIVE_AI_API_KEY',
  'UPSTASH_VECTOR_REST_TOKEN',
  'WEBHOOK_SECRET',
]);

function describe(error: ValidationError): string[] {
  const constraints = Object.values(error.constraints ?? {}).join(', ');
  // Secrets are never echoed, not even a wrong one.
  const shown = SECRETS.has(error.property) ? '' : ` (got "${String(error.value)}")`;
  return [`${error.property}: ${constraints}${shown}`];
}
