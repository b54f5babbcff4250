import { Module } from '@nestjs/common';
import { TrendReader } from './trend-reader';

/** Reads clusters' arrival trends (growth, emerging); used by cluster reads and alerts. */
@Module({ providers: [TrendReader], exports: [TrendReader] })
export class TrendsModule {}
