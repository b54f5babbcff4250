import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClusterReader, ClusterView } from '../clusters/cluster-reader';
import { ClusterPageView } from '../clusters/dto/cluster.view';
import { Page } from '../http/page-cursor';
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectQuery } from '../http/project-query';
import { TrendingClustersQuery } from './dto/trending-clusters.query';
import { ClusterSparklines, TrendReader } from './trend-reader';

/** Clusters by trend, new clusters, and a cluster's arrivals over time (README, "Trends"). */
@ApiTags('trends')
@Controller('trends/clusters')
export class TrendsController {
  constructor(private readonly contexts: ProjectContexts) {}

  @Get()
  @ApiOperation({
    summary: 'Live clusters, most trending first by default, optionally only those created since',
  })
  @ApiOkResponse({ type: ClusterPageView })
  async list(@Query() query: TrendingClustersQuery): Promise<Page<ClusterView>> {
    const reader = await this.contexts.get(ClusterReader, query.project_id);
    return reader.list(query.sort, query.limit, query.cursor, query.newSinceMs());
  }

  @Get(':id')
  @ApiOperation({ summary: "A cluster's arrivals per hour (7 days) and per day (90 days)" })
  @ApiNotFoundResponse({ description: 'No cluster with this id.' })
  async sparklines(
    @Param('id') id: string,
    @Query() query: ProjectQuery,
  ): Promise<ClusterSparklines & { id: string }> {
    const reader = await this.contexts.get(ClusterReader, query.project_id);
    const cluster = await reader.get(id, 1);
    if (!cluster) throw new NotFoundException(`no cluster ${id}`);
    const clusterId = String(cluster.id);
    const trends = await this.contexts.get(TrendReader, query.project_id);
    return { id: clusterId, ...(await trends.sparklines(clusterId)) };
  }
}
