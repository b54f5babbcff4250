import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Page } from '../http/page-cursor';
import { ProjectContexts } from '../projects/project-contexts';
import { ClusterDetail, ClusterReader, ClusterView } from './cluster-reader';
import { ClusterDetailView, ClusterPageView } from './dto/cluster.view';
import { GetClusterQuery } from './dto/get-cluster.query';
import { ListClustersQuery } from './dto/list-clusters.query';

/** Reads through the project's ClusterReader (one per project with KEY_LAYOUT=project). */
@ApiTags('clusters')
@Controller('clusters')
export class ClustersController {
  constructor(private readonly contexts: ProjectContexts) {}

  @Get()
  @ApiOperation({ summary: 'Live clusters, paged, with size and sources' })
  @ApiOkResponse({ type: ClusterPageView })
  @ApiBadRequestResponse({ description: 'A query parameter (e.g. project_id) is invalid.' })
  async list(@Query() query: ListClustersQuery): Promise<Page<ClusterView>> {
    const clusters = await this.contexts.get(ClusterReader, query.project_id);
    return clusters.list(query.sort, query.limit, query.cursor, query.newSinceMs());
  }

  @Get(':id')
  @ApiOperation({ summary: 'One cluster with its feedback; a merged id answers with its survivor' })
  @ApiOkResponse({ type: ClusterDetailView })
  @ApiBadRequestResponse({ description: 'A query parameter (e.g. project_id) is invalid.' })
  @ApiNotFoundResponse({ description: 'No cluster with this id (in this project).' })
  async get(@Param('id') id: string, @Query() query: GetClusterQuery): Promise<ClusterDetail> {
    const clusters = await this.contexts.get(ClusterReader, query.project_id);
    const cluster = await clusters.get(id, query.feedback_limit, query.feedback_cursor);
    if (!cluster) throw new NotFoundException(`no cluster ${id}`);
    return cluster;
  }
}
