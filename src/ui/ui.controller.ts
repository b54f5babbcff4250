import { Controller, Get, Header, Param, Query, Res } from '@nestjs/common';
import { ApiExcludeController, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ClusterReader, ClusterView } from '../clusters/cluster-reader';
import { TrendReader } from '../trends/trend-reader';
import { IsPageCursor, Page } from '../http/page-cursor';
import { ClusterJobRepository } from '../jobs/cluster-job.repository';
import { DeadLetterLog } from '../operations/dead-letter-log';
import { ProjectQuery } from '../http/project-query';
import { ParkedItems } from '../operations/parked-items';
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';
import {
  clusterPage,
  notFoundPage,
  overviewPage,
  ProjectChoice,
  projectPickerPage,
} from './operator-pages';

const CLUSTERS_PER_PAGE = 50;
const ITEMS_PER_PAGE = 50;
const ROWS_PER_SECTION = 20;
/** Nothing but the page itself and its inline style: no script runs, whatever an item holds. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

export class UiQuery extends ProjectQuery {
  @ApiPropertyOptional({ enum: ['size', 'recent', 'trending'], default: 'size' })
  @IsOptional()
  @IsIn(['size', 'recent', 'trending'])
  sort: 'size' | 'recent' | 'trending' = 'size';

  @IsOptional()
  @IsPageCursor()
  cursor?: string;
}

export class UiClusterQuery extends ProjectQuery {
  @IsOptional()
  @IsPageCursor()
  feedback_cursor?: string;
}

interface StatusResponse {
  status(code: number): unknown;
}

/**
 * The operator page: server-rendered HTML, read-only (changes go through the token-protected
 * API). A singleton that resolves each project's readers, like the JSON controllers.
 */
@ApiExcludeController()
@Controller('ui')
export class UiController {
  constructor(
    private readonly contexts: ProjectContexts,
    private readonly registry: ProjectRegistry,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CSP)
  async overview(@Query() query: UiQuery): Promise<string> {
    const choice = await this.choice(query.project_id);
    if (choice && choice.current === undefined) return projectPickerPage(choice);
    const pid = query.project_id;
    const [clusters, trends, jobs, deadLetters, parked] = await Promise.all([
      this.contexts.get(ClusterReader, pid),
      this.contexts.get(TrendReader, pid),
      this.contexts.get(ClusterJobRepository, pid),
      this.contexts.get(DeadLetterLog, pid),
      this.contexts.get(ParkedItems, pid),
    ]);
    return overviewPage(
      {
        projectId: pid,
        sort: query.sort,
        clusters: await withSparklines(
          await clusters.list(query.sort, CLUSTERS_PER_PAGE, query.cursor),
          trends,
        ),
        jobs: (await jobs.list(ROWS_PER_SECTION)).items,
        deadLetters: await deadLetters.list(ROWS_PER_SECTION),
        parked: await parked.list(ROWS_PER_SECTION),
      },
      choice,
    );
  }

  @Get('clusters/:id')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CSP)
  async cluster(
    @Param('id') id: string,
    @Query() query: UiClusterQuery,
    @Res({ passthrough: true }) response: StatusResponse,
  ): Promise<string> {
    const pid = query.project_id;
    const choice = await this.choice(pid);
    const reader = await this.contexts.get(ClusterReader, pid);
    const cluster = await reader.get(id, ITEMS_PER_PAGE, query.feedback_cursor);
    if (!cluster) {
      response.status(404);
      return notFoundPage(`No cluster ${id}.`, pid);
    }
    return clusterPage(cluster, pid, choice);
  }

  /** The project picker's content in the project layout; undefined in the flat one. */
  private async choice(projectId: string | undefined): Promise<ProjectChoice | undefined> {
    if (this.contexts.layout === 'flat') return undefined;
    return { projects: await this.registry.list(), current: projectId || undefined };
  }
}

/** Each listed cluster with its last 7 days of hourly arrivals (`trend`), for the sparklines. */
async function withSparklines(
  page: Page<ClusterView>,
  trends: TrendReader,
): Promise<Page<ClusterView>> {
  const items = await Promise.all(
    page.items.map(async (cluster) => ({
      ...cluster,
      trend: (await trends.sparklines(String(cluster.id))).hourly_7d,
    })),
  );
  return { ...page, items };
}
