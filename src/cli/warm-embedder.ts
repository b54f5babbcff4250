import { LocalEmbedder } from '../providers/local/local-embedder';

/**
 * Builds the local embedder's word-vector cache (run after `npm run build`), so that the
 * first start of the service, or of a test, does not pay for scanning the source table.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const embedder = new LocalEmbedder();
  await embedder.embed(['warm up']);
  process.stdout.write(`${embedder.model}: word vectors ready in ${Date.now() - started} ms\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`could not prepare the local embedder: ${String(error)}\n`);
  process.exit(1);
});
