import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Page } from '../http/page-cursor';
import { ClusterDetail, ClusterReader, ClusterView } from './cluster-reader';
import { ClusterDetailView, ClusterPageView } from './dto/cluster.view';
import { GetClusterQuery } from './dto/get-cluster.query';
import { ListClustersQuery } from './dto/list-clusters.query';

@ApiTags('clusters')
@Controller('clusters')
export class ClustersController {
  constructor(private readonly clusters: ClusterReader) {}

  @Get()
  @ApiOperation({ summary: 'Live clusters, paged, with size and sources' })
  @ApiOkResponse({ type: ClusterPageView })
  list(@Query() query: ListClustersQuery): Promise<Page<ClusterView>> {
    return this.clusters.list(query.sort, query.limit, query.cursor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One cluster with its feedback; a merged id answers with its survivor' })
  @ApiOkResponse({ type: ClusterDetailView })
  @ApiNotFoundResponse({ description: 'No cluster with this id.' })
  async get(@Param('id') id: string, @Query() query: GetClusterQuery): Promise<ClusterDetail> {
    const cluster = await this.clusters.get(id, query.feedback_limit, query.feedback_cursor);
    if (!cluster) throw new NotFoundException(`no cluster ${id}`);
    return cluster;
  }
}
