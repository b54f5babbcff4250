import { Injectable } from '@nestjs/common';
import { ClusterJobRepository } from './cluster-job.repository';
import { ClusterJob, JobMessage, JobRequest, newClusterJob } from './job-data';
import { JOB_STREAM, JOB_STREAM_MAX_LEN } from './jobs.constants';

/**
 * Creates jobs and hands them to whichever replica reads the job stream first: the record
 * and the stream entry are written in one MULTI, so neither exists without the other.
 */
@Injectable()
export class ClusterJobsProducer {
  constructor(private readonly jobs: ClusterJobRepository) {}

  async enqueue(request: JobRequest): Promise<ClusterJob> {
    const job = newClusterJob(request);
    const message: JobMessage = { job_id: job.id };
    await this.jobs.create(job, (multi) =>
      multi.xadd(JOB_STREAM, 'MAXLEN', '~', JOB_STREAM_MAX_LEN, '*', 'job_id', message.job_id),
    );
    return job;
  }
}
