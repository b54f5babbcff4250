import { Global, Module } from '@nestjs/common';
import { ShutdownDeadline } from './shutdown-deadline';

/** The process-wide shutdown deadline every module's shutdown hook waits within. */
@Global()
@Module({ providers: [ShutdownDeadline], exports: [ShutdownDeadline] })
export class LifecycleModule {}
