import 'reflect-metadata';
import { ConfigurationError, loadEnvironment } from './config/environment';

async function bootstrap(): Promise<void> {
  // Validate before anything starts, so a bad variable stops start-up with one clear line.
  const env = loadEnvironment();
  // Each mode loads only its own modules: one-shot mode never loads the HTTP stack.
  if (env.CLUSTER_JOB_ID) {
    // One-shot mode: no HTTP server, no consumers; the exit code is the job's outcome.
    const { runOneShotJob } = await import('./cli/run-job');
    process.exit(
      await runOneShotJob(
        env.CLUSTER_JOB_ID,
        undefined,
        env.KEY_LAYOUT === 'project' ? env.CLUSTER_JOB_PROJECT_ID : undefined,
      ),
    );
  }
  const [{ NestFactory }, { Logger }, { AppModule }, { configureHttp }, { exitOnSignals }] =
    await Promise.all([
      import('@nestjs/core'),
      import('nestjs-pino'),
      import('./app.module'),
      import('./http/configure-http'),
      import('./lifecycle/shutdown-deadline'),
    ]);
  // abortOnError off: a provider refusing at start-up (e.g. a dimension mismatch) ends in the
  // one-line message below instead of Nest's stack trace.
  const app = await NestFactory.create(AppModule.forRoot(), {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  configureHttp(app);
  // Not enableShutdownHooks: one deadline for all hooks, and an exit that cannot hang.
  exitOnSignals(app);
  await app.listen(env.PORT);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigurationError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `start-up failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exit(1);
});
