/**
 * @module test/helpers/zip-fixture
 * Deployment packages built in memory for management API tests.
 */
import yazl from 'yazl';

/** The modification time of every entry: the same files make the same bytes, whenever they are zipped. */
const ENTRY_TIME = new Date(2020, 0, 1);

/** A zip of `files` (path → contents). */
export function zipOf(files: Readonly<Record<string, string | Buffer>>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, contents] of Object.entries(files)) zip.addBuffer(Buffer.isBuffer(contents) ? contents : Buffer.from(contents), path, { mtime: ENTRY_TIME });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** A package whose `index.handler` answers with `label`, the `GREETING` variable and the event; `{ gate }` holds it at a gate (see gate.ts). */
export function handlerZip(label: string): Promise<Buffer> {
  return zipOf({
    'index.mjs': `import { existsSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
export const handler = async (event) => {
  if (event && event.gate) {
    writeFileSync(event.gate + '/arrived-' + randomUUID(), '');
    while (!existsSync(event.gate + '/open')) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { label: ${JSON.stringify(label)}, greeting: process.env.GREETING ?? null, version: process.env.AWS_LAMBDA_FUNCTION_VERSION };
};
`,
  });
}
