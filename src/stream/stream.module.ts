import { Module } from '@nestjs/common';
import { PipelineModule } from '../pipeline/pipeline.module';
import { StreamConsumerService } from './stream-consumer.service';

@Module({
  imports: [PipelineModule],
  providers: [StreamConsumerService],
  exports: [StreamConsumerService],
})
export class StreamModule {}
