import { Module } from '@nestjs/common';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { DeadLetterLog } from './dead-letter-log';
import { OperationsController } from './operations.controller';
import { ParkedItems } from './parked-items';

/** Dead letters and parked items over HTTP, and their replay. */
@Module({
  controllers: [OperationsController],
  providers: [DeadLetterLog, ParkedItems, BearerTokenGuard],
  exports: [DeadLetterLog, ParkedItems],
})
export class OperationsModule {}
