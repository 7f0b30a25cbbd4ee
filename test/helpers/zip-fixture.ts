/**
 * @module test/helpers/zip-fixture
 * Deployment packages built in memory for management API tests.
 */
import yazl from 'yazl';

/** A zip of `files` (path → contents). */
export function zipOf(files: Readonly<Record<string, string | Buffer>>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, contents] of Object.entries(files)) zip.addBuffer(Buffer.isBuffer(contents) ? contents : Buffer.from(contents), path);
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** A package whose `index.handler` answers with `label`, the `GREETING` variable and the event; `{ sleep: ms }` delays it. */
export function handlerZip(label: string): Promise<Buffer> {
  return zipOf({
    'index.mjs': `export const handler = async (event) => {
  if (event && event.sleep) await new Promise((resolve) => setTimeout(resolve, event.sleep));
  return { label: ${JSON.stringify(label)}, greeting: process.env.GREETING ?? null, version: process.env.AWS_LAMBDA_FUNCTION_VERSION };
};
`,
  });
}
