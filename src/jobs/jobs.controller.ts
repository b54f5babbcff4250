import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { Page } from '../http/page-cursor';
import { ProjectQuery } from '../http/project-query';
import { ProjectContexts } from '../projects/project-contexts';
import { ClusterJobRepository } from './cluster-job.repository';
import { CreateClusterJobDto } from './dto/create-cluster-job.dto';
import { ClusterJobPageView, ClusterJobView } from './dto/cluster-job.view';
import { ListClusterJobsQuery } from './dto/list-cluster-jobs.query';
import { ClusterJob, JobFilters } from './job-data';
import { ClusterJobsProducer } from './jobs.producer';

/** Jobs of the project asked for (`?project_id=`, KEY_LAYOUT=project), through its services. */
@ApiTags('jobs')
@Controller()
export class JobsController {
  constructor(private readonly contexts: ProjectContexts) {}

  @Post('cluster-jobs')
  @HttpCode(HttpStatus.ACCEPTED)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create a clustering job; some replica runs it' })
  @ApiAcceptedResponse({ type: ClusterJobView })
  @ApiBadRequestResponse({
    description: 'The body or project_id is invalid; the message says why.',
  })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  create(@Body() body: CreateClusterJobDto, @Query() query: ProjectQuery): Promise<ClusterJob> {
    return this.enqueue(body, query);
  }

  @Post('clusters/run')
  @HttpCode(HttpStatus.ACCEPTED)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Same as POST /cluster-jobs (the path the dashboard calls)' })
  @ApiAcceptedResponse({ type: ClusterJobView })
  @ApiBadRequestResponse({
    description: 'The body or project_id is invalid; the message says why.',
  })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  run(@Body() body: CreateClusterJobDto, @Query() query: ProjectQuery): Promise<ClusterJob> {
    return this.enqueue(body, query);
  }

  @Get('cluster-jobs')
  @ApiOperation({ summary: 'Recent jobs, newest first' })
  @ApiOkResponse({ type: ClusterJobPageView })
  @ApiBadRequestResponse({ description: 'A query parameter (e.g. project_id) is invalid.' })
  async list(@Query() query: ListClusterJobsQuery): Promise<Page<ClusterJob>> {
    const jobs = await this.contexts.get(ClusterJobRepository, query.project_id);
    return jobs.list(query.limit, query.cursor);
  }

  @Get('cluster-jobs/:id')
  @ApiOperation({ summary: 'One job with its stats' })
  @ApiOkResponse({ type: ClusterJobView })
  @ApiBadRequestResponse({ description: 'A query parameter (e.g. project_id) is invalid.' })
  @ApiNotFoundResponse({ description: 'No job with this id (in this project).' })
  async get(@Param('id') id: string, @Query() query: ProjectQuery): Promise<ClusterJob> {
    const jobs = await this.contexts.get(ClusterJobRepository, query.project_id);
    const job = await jobs.get(id);
    if (!job) throw new NotFoundException(`no cluster job ${id}`);
    return job;
  }

  private async enqueue(body: CreateClusterJobDto, query: ProjectQuery): Promise<ClusterJob> {
    const producer = await this.contexts.get(ClusterJobsProducer, query.project_id);
    const filters: JobFilters = {};
    if (body.source !== undefined) filters.source = body.source;
    if (body.since !== undefined) filters.since = body.since;
    return producer.enqueue({ trigger: 'api', mode: body.mode ?? 'incremental', filters });
  }
}
