import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { Page } from '../http/page-cursor';
import { ProjectQuery } from '../http/project-query';
import { ProjectContexts } from '../projects/project-contexts';
import { DeadLetterLog, DeadLetterView, ReplayOutcome } from './dead-letter-log';
import {
  ListDeadLettersQuery,
  ListParkedItemsQuery,
  ReplayDeadLettersDto,
  ReplayParkedItemsDto,
} from './dto/operations.dto';
import { ParkedItems, ParkedItemView } from './parked-items';

/**
 * What the service gave up on, and the way back: dead letters (events delivered too often or
 * unusable) and parked items (no clusterable text), readable with their reasons and replayed
 * through the pipeline. Per project: a singleton that resolves each project's readers.
 */
@ApiTags('operations')
@Controller()
export class OperationsController {
  constructor(private readonly contexts: ProjectContexts) {}

  @Get('dead-letters')
  @ApiOperation({ summary: 'Dead letters, newest first, with their reasons' })
  @ApiOkResponse({ description: '`{ items, next_cursor }`' })
  async deadLetters(@Query() query: ListDeadLettersQuery): Promise<Page<DeadLetterView>> {
    const log = await this.contexts.get(DeadLetterLog, query.project_id);
    return log.list(query.limit, query.cursor);
  }

  @Post('dead-letters/replay')
  @HttpCode(HttpStatus.OK)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Re-announces dead letters (given ids or all) on the event stream and removes them',
  })
  @ApiOkResponse({ description: '`{ replayed, unreplayable }`' })
  @ApiBadRequestResponse({ description: 'The body is invalid; the message says why.' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  async replayDeadLetters(
    @Query() query: ProjectQuery,
    @Body() body: ReplayDeadLettersDto,
  ): Promise<ReplayOutcome> {
    const log = await this.contexts.get(DeadLetterLog, query.project_id);
    return log.replay(body.ids);
  }

  @Get('parked-items')
  @ApiOperation({ summary: 'Parked items, newest first, with their reasons' })
  @ApiOkResponse({ description: '`{ items, next_cursor }`' })
  async parkedItems(@Query() query: ListParkedItemsQuery): Promise<Page<ParkedItemView>> {
    const parked = await this.contexts.get(ParkedItems, query.project_id);
    return parked.list(query.limit, query.cursor);
  }

  @Post('parked-items/replay')
  @HttpCode(HttpStatus.OK)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Releases parked items (given ids or all): the pipeline tries them again',
  })
  @ApiOkResponse({ description: '`{ replayed }`' })
  @ApiBadRequestResponse({ description: 'The body is invalid; the message says why.' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token.' })
  async replayParkedItems(
    @Query() query: ProjectQuery,
    @Body() body: ReplayParkedItemsDto,
  ): Promise<{ replayed: number }> {
    const parked = await this.contexts.get(ParkedItems, query.project_id);
    return { replayed: await parked.release(body.ids) };
  }
}
