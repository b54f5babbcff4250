import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { Logger } from 'nestjs-pino';
import { ConfigurationError, loadEnvironment } from '../config/environment';
import { ClusterJobRepository } from '../jobs/cluster-job.repository';
import { ClusterJobRunner } from '../jobs/cluster-job.runner';
import { JOB_MODES, JobMode, newClusterJob } from '../jobs/job-data';
import { OneShotModule } from './one-shot.module';

/** Exit codes of one-shot mode: the job succeeded, the job failed, the command was wrong. */
export const EXIT_SUCCEEDED = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * One-shot mode (CONTRACT §6 `CLUSTER_JOB_ID`): runs one job in this process and returns the
 * exit code. A job without a record is created (`trigger: cli`); a job that already finished
 * is not run again, its outcome is the answer (so a retried task does not redo the work).
 */
export async function runOneShotJob(jobId: string, mode: JobMode = 'incremental'): Promise<number> {
  const app = await NestFactory.createApplicationContext(OneShotModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  const logger = new NestLogger('OneShot');
  try {
    const jobs = app.get(ClusterJobRepository);
    const existing = await jobs.get(jobId);
    if (!existing) {
      await jobs.create(newClusterJob({ trigger: 'cli', mode, filters: {} }, jobId));
    } else if (existing.status === 'succeeded' || existing.status === 'failed') {
      logger.log({ msg: 'job already finished', job_id: jobId, status: existing.status });
      return existing.status === 'succeeded' ? EXIT_SUCCEEDED : EXIT_FAILED;
    }
    const job = await app.get(ClusterJobRunner).run(jobId);
    return job.status === 'succeeded' ? EXIT_SUCCEEDED : EXIT_FAILED;
  } finally {
    await app.close();
  }
}

const USAGE =
  'usage: run-job [--mode incremental|full] [job-id]   (job id default: CLUSTER_JOB_ID, else a new one)';

/** `npm run job -- [--mode full] [job-id]`, for operators. */
async function main(argv: string[]): Promise<number> {
  let mode: JobMode = 'incremental';
  let jobId: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--mode') {
      const value = JOB_MODES.find((m) => m === argv[++i]);
      if (!value) throw new UsageError(`--mode must be one of ${JOB_MODES.join(', ')}`);
      mode = value;
    } else if (/^[0-9a-fA-F-]{36}$/.test(arg) && jobId === undefined) {
      jobId = arg;
    } else {
      throw new UsageError(`unexpected argument "${arg}"`);
    }
  }
  const env = loadEnvironment();
  return runOneShotJob(jobId ?? env.CLUSTER_JOB_ID ?? randomUUID(), mode);
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
