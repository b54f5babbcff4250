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
import { ClusterJobRepository } from './cluster-job.repository';
import { CreateClusterJobDto } from './dto/create-cluster-job.dto';
import { ClusterJobPageView, ClusterJobView } from './dto/cluster-job.view';
import { ListClusterJobsQuery } from './dto/list-cluster-jobs.query';
import { ClusterJob, JobFilters } from './job-data';
import { ClusterJobsProducer } from './jobs.producer';

@ApiTags('jobs')
@Controller()
export class JobsController {
  constructor(
    private readonly producer: ClusterJobsProducer,
    private readonly jobs: ClusterJobRepository,
  ) {}

  @Post('cluster-jobs')
  @HttpCode(HttpStatus.ACCEPTED)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create a clustering job; some replica runs it' })
  @ApiAcceptedResponse({ type: ClusterJobView })
  @ApiBadRequestResponse({ description: 'The body is invalid; the message says why.' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  create(@Body() body: CreateClusterJobDto): Promise<ClusterJob> {
    return this.enqueue(body);
  }

  @Post('clusters/run')
  @HttpCode(HttpStatus.ACCEPTED)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Same as POST /cluster-jobs (the path the dashboard calls)' })
  @ApiAcceptedResponse({ type: ClusterJobView })
  @ApiBadRequestResponse({ description: 'The body is invalid; the message says why.' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  run(@Body() body: CreateClusterJobDto): Promise<ClusterJob> {
    return this.enqueue(body);
  }

  @Get('cluster-jobs')
  @ApiOperation({ summary: 'Recent jobs, newest first' })
  @ApiOkResponse({ type: ClusterJobPageView })
  list(@Query() query: ListClusterJobsQuery): Promise<Page<ClusterJob>> {
    return this.jobs.list(query.limit, query.cursor);
  }

  @Get('cluster-jobs/:id')
  @ApiOperation({ summary: 'One job with its stats' })
  @ApiOkResponse({ type: ClusterJobView })
  @ApiNotFoundResponse({ description: 'No job with this id.' })
  async get(@Param('id') id: string): Promise<ClusterJob> {
    const job = await this.jobs.get(id);
    if (!job) throw new NotFoundException(`no cluster job ${id}`);
    return job;
  }

  private enqueue(body: CreateClusterJobDto): Promise<ClusterJob> {
    const filters: JobFilters = {};
    if (body.source !== undefined) filters.source = body.source;
    if (body.since !== undefined) filters.since = body.since;
    return this.producer.enqueue({ trigger: 'api', mode: body.mode ?? 'incremental', filters });
  }
}
