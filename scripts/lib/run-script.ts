/**
 * Runs a script's `main` and sets the exit code to what it returns (1 when it throws), then
 * runs `shutdown` to stop what the script started. Ctrl-C runs `shutdown` too and exits with
 * 130; `shutdown` runs at most once, whichever comes first.
 */
export function runScript(main: () => Promise<number>, shutdown: () => Promise<void>): void {
  let stopping: Promise<void> | undefined;
  const stopOnce = (): Promise<void> => (stopping ??= shutdown());

  process.once('SIGINT', () => {
    console.log('\nInterrupted; stopping ...');
    void stopOnce().finally(() => process.exit(130));
  });

  main()
    .catch((error: unknown) => {
      console.error(error);
      return 1;
    })
    .then(async (code) => {
      await stopOnce();
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
