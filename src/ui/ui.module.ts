import { Module } from '@nestjs/common';
import { UiController } from './ui.controller';

/** The operator page at `/ui`. */
@Module({ controllers: [UiController] })
export class UiModule {}
