import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { Logger } from 'nestjs-pino';
import { ConfigurationError, Environment, loadEnvironment } from '../config/environment';
import { ClusterJobRepository } from '../jobs/cluster-job.repository';
import { ClusterJobRunner } from '../jobs/cluster-job.runner';
import { JOB_MODES, JobMode, newClusterJob } from '../jobs/job-data';
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';
import { isProjectId } from '../redis/keyspace';
import { OneShotModule } from './one-shot.module';

/** Exit codes of one-shot mode: the job succeeded, the job failed, the command was wrong. */
export const EXIT_SUCCEEDED = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Why a one-shot job stopped early: the task was told to stop (ECS sends SIGTERM). */
export class JobInterruptedError extends Error {
  override name = 'JobInterruptedError';
}

/**
 * One-shot mode (CONTRACT §6 `CLUSTER_JOB_ID`): runs one job in this process and returns the
 * exit code. A job without a record is created (`trigger: cli`); a job that already finished
 * is not run again, its outcome is the answer (so a retried task does not redo the work).
 * On SIGTERM the job stops after the chunk in hand (every write is atomic, so nothing is
 * half done) and is marked `failed` ("interrupted by SIGTERM"); if it has not stopped within
 * SHUTDOWN_TIMEOUT_MS it is marked failed anyway (its late writes are then refused). Either
 * way the process exits with EXIT_FAILED. With KEY_LAYOUT=project the job is `projectId`'s
 * (its record, and the items it clusters, are that project's only).
 */
export async function runOneShotJob(
  jobId: string,
  mode: JobMode = 'incremental',
  projectId?: string,
): Promise<number> {
  const app = await NestFactory.createApplicationContext(OneShotModule.forRoot(), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  const logger = new NestLogger('OneShot');
  const interrupt = new AbortController();
  const onSigterm = () => {
    logger.warn({ msg: 'SIGTERM: stopping the job after the chunk in hand', job_id: jobId });
    interrupt.abort(new JobInterruptedError('interrupted by SIGTERM before it finished'));
  };
  process.once('SIGTERM', onSigterm);
  try {
    const contexts = app.get(ProjectContexts);
    const jobs = await contexts.get(ClusterJobRepository, projectId);
    // A known project's silent one-shot jobs are looked after by the replicas.
    if (projectId !== undefined) await app.get(ProjectRegistry).note([projectId]);
    const existing = await jobs.get(jobId);
    if (!existing) {
      await jobs.create(newClusterJob({ trigger: 'cli', mode, filters: {} }, jobId));
    } else if (existing.status === 'succeeded' || existing.status === 'failed') {
      logger.log({ msg: 'job already finished', job_id: jobId, status: existing.status });
      return existing.status === 'succeeded' ? EXIT_SUCCEEDED : EXIT_FAILED;
    }
    const runner = await contexts.get(ClusterJobRunner, projectId);
    const run = runner.run(jobId, { signal: interrupt.signal });
    const job = await untilDeadlineAfterAbort(run, interrupt.signal, app.get(Environment));
    if (!job) {
      await jobs.giveUp(jobId, 'interrupted by SIGTERM; did not stop within SHUTDOWN_TIMEOUT_MS');
      return EXIT_FAILED;
    }
    return job.status === 'succeeded' ? EXIT_SUCCEEDED : EXIT_FAILED;
  } finally {
    process.off('SIGTERM', onSigterm);
    await app.close();
  }
}

/** `run`'s result, or undefined when it has not settled SHUTDOWN_TIMEOUT_MS after `signal`. */
function untilDeadlineAfterAbort<T>(
  run: Promise<T>,
  signal: AbortSignal,
  env: Environment,
): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    signal.addEventListener('abort', () => {
      timer = setTimeout(() => resolve(undefined), env.SHUTDOWN_TIMEOUT_MS);
    });
  });
  return Promise.race([run, deadline]).finally(() => clearTimeout(timer));
}

const USAGE =
  'usage: run-job [--mode incremental|full] [--project <project-id>] [job-id]\n' +
  '  job id default: CLUSTER_JOB_ID, else a new one; --project is required with KEY_LAYOUT=project and refused without';

/** `npm run job -- [--mode full] [--project <id>] [job-id]`, for operators. */
async function main(argv: string[]): Promise<number> {
  let mode: JobMode = 'incremental';
  let jobId: string | undefined;
  let projectId: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--mode') {
      const value = JOB_MODES.find((m) => m === argv[++i]);
      if (!value) throw new UsageError(`--mode must be one of ${JOB_MODES.join(', ')}`);
      mode = value;
    } else if (arg === '--project') {
      projectId = argv[++i] ?? '';
      if (!isProjectId(projectId)) throw new UsageError('--project must be a UUID or CUID');
    } else if (/^[0-9a-fA-F-]{36}$/.test(arg) && jobId === undefined) {
      jobId = arg;
    } else {
      throw new UsageError(`unexpected argument "${arg}"`);
    }
  }
  const env = loadEnvironment();
  // An operator naming a project in the flat layout (or none in the project one) means another
  // deployment than this one: refused rather than run on the wrong keys.
  if (env.KEY_LAYOUT === 'project' && projectId === undefined)
    throw new UsageError('--project is required with KEY_LAYOUT=project');
  if (env.KEY_LAYOUT === 'flat' && projectId !== undefined)
    throw new UsageError('--project applies only with KEY_LAYOUT=project');
  return runOneShotJob(jobId ?? env.CLUSTER_JOB_ID ?? randomUUID(), mode, projectId);
}

class UsageError extends Error {
  override name = 'UsageError';
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}\n`);
      else if (error instanceof ConfigurationError) process.stderr.write(`${error.message}\n`);
      else
        process.stderr.write(
          `job failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
        );
      process.exit(
        error instanceof UsageError || error instanceof ConfigurationError
          ? EXIT_USAGE
          : EXIT_FAILED,
      );
    },
  );
}
