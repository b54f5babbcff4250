import { Injectable } from '@nestjs/common';
import { ProjectRegistry } from '../projects/project-registry';
import { ClusterJobRepository } from './cluster-job.repository';
import { ClusterJob, jobMessageFields, JobRequest, newClusterJob } from './job-data';
import { JOB_STREAM, JOB_STREAM_MAX_LEN } from './jobs.constants';

/**
 * Creates jobs and hands them to whichever replica reads the job stream first: the record
 * and the stream entry (which names the job's project in the project layout) are written in
 * one MULTI, so neither exists without the other.
 */
@Injectable()
export class ClusterJobsProducer {
  constructor(
    private readonly jobs: ClusterJobRepository,
    private readonly projects: ProjectRegistry,
  ) {}

  /** The job, recorded and dispatched; its project becomes a known one (scheduled sweeps). */
  async enqueue(request: JobRequest): Promise<ClusterJob> {
    const job = await this.jobs.create(newClusterJob(request), (multi, recorded) =>
      multi.xadd(
        JOB_STREAM,
        'MAXLEN',
        '~',
        JOB_STREAM_MAX_LEN,
        '*',
        ...jobMessageFields({ job_id: recorded.id, project_id: recorded.project_id }),
      ),
    );
    if (job.project_id !== undefined) await this.projects.note([job.project_id]);
    return job;
  }
}
