import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { ProjectContexts } from '../projects/project-contexts';
import { AuditLog, AuditPage, AuditRecord } from './audit-log';
import { ClusterControl } from './cluster-control';
import {
  AuditPageView,
  ControlOutcomeView,
  ListAuditQuery,
  MergeClusterDto,
  MoveFeedbackDto,
  SplitClusterDto,
} from './dto/control.dto';

/**
 * Human control of the clustering (merge, split, move), each answered with its audit record,
 * and the audit trail. The sweeps respect what people decided (see ControlPins).
 */
@ApiTags('control')
@Controller()
export class ControlController {
  constructor(private readonly contexts: ProjectContexts) {}

  @Post('clusters/:id/merge')
  @HttpCode(HttpStatus.OK)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Merge this cluster into another (which keeps its id)' })
  @ApiQuery({ name: 'project_id', required: false, description: 'KEY_LAYOUT=project' })
  @ApiOkResponse({ type: ControlOutcomeView })
  @ApiBadRequestResponse({ description: 'The body is invalid; the message says why.' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  @ApiNotFoundResponse({ description: 'No such cluster (in this project).' })
  @ApiConflictResponse({ description: 'Into itself, or a cluster that is not live.' })
  async merge(
    @Param('id') id: string,
    @Body() body: MergeClusterDto,
    @Query('project_id') projectId?: string,
  ): Promise<AuditRecord> {
    return (await this.control(projectId)).merge(id, body.into);
  }

  @Post('clusters/:id/split')
  @HttpCode(HttpStatus.OK)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Move the given members into a new cluster, never merged back automatically',
  })
  @ApiQuery({ name: 'project_id', required: false, description: 'KEY_LAYOUT=project' })
  @ApiOkResponse({ type: ControlOutcomeView })
  @ApiBadRequestResponse({ description: 'The body is invalid; the message says why.' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  @ApiNotFoundResponse({ description: 'No such cluster or feedback (in this project).' })
  @ApiConflictResponse({ description: 'Items not members, all of them, or a cluster not live.' })
  async split(
    @Param('id') id: string,
    @Body() body: SplitClusterDto,
    @Query('project_id') projectId?: string,
  ): Promise<AuditRecord> {
    return (await this.control(projectId)).split(id, body.item_ids);
  }

  @Post('feedback/:id/move')
  @HttpCode(HttpStatus.OK)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Move one item to another cluster, where sweeps leave it' })
  @ApiQuery({ name: 'project_id', required: false, description: 'KEY_LAYOUT=project' })
  @ApiOkResponse({ type: ControlOutcomeView })
  @ApiBadRequestResponse({ description: 'The body is invalid; the message says why.' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  @ApiNotFoundResponse({ description: 'No such feedback or cluster (in this project).' })
  @ApiConflictResponse({
    description: 'Already there, in no cluster, its cluster’s only item, or a cluster not live.',
  })
  async move(
    @Param('id') id: string,
    @Body() body: MoveFeedbackDto,
    @Query('project_id') projectId?: string,
  ): Promise<AuditRecord> {
    return (await this.control(projectId)).move(id, body.cluster_id);
  }

  @Get('audit')
  @ApiOperation({ summary: 'What people changed (merge, split, move), newest first' })
  @ApiOkResponse({ type: AuditPageView })
  async audit(@Query() query: ListAuditQuery): Promise<AuditPage> {
    const log = await this.contexts.get(AuditLog, query.project_id);
    return log.list(query.limit, query.cursor);
  }

  private control(projectId: string | undefined): Promise<ClusterControl> {
    return this.contexts.get(ClusterControl, projectId);
  }
}
