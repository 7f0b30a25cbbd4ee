/**
 * @module test/helpers/zip-fixture
 * Deployment packages built in memory for management API tests.
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';
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

const MIB = 1_048_576;

/**
 * A zip of `index.mjs` and a file of `zeros` zero bytes, made without compressing them all: the deflated file is one
 * compressed MiB repeated (each piece ends in a full flush, so it refers to nothing before it), its CRC-32 is
 * computed natively. The archive is honest (sizes, checksum and data agree), as a real zip bomb's would be, and
 * costs milliseconds where zipping 250 MB of zeros cost seconds of the suite's CPU.
 */
export function zerosZip(handler: string, zeros: number): Buffer {
  const block = Buffer.alloc(MIB);
  const flushed = deflateRawSync(block, { finishFlush: constants.Z_FULL_FLUSH });
  const data: Buffer[] = [];
  let checksum = 0;
  for (let left = zeros; left > 0; left -= MIB) {
    const piece = left >= MIB ? block : block.subarray(0, left);
    checksum = crc32(piece, checksum);
    data.push(left >= MIB ? flushed : deflateRawSync(piece, { finishFlush: constants.Z_FULL_FLUSH }));
  }
  data.push(deflateRawSync(Buffer.alloc(0)));
  const source = Buffer.from(handler);
  return zipEntries([
    { name: 'index.mjs', method: 0, crc: crc32(source), size: source.length, data: source },
    { name: 'zeros.bin', method: 8, crc: checksum, size: zeros, data: Buffer.concat(data) },
  ]);
}

/** One file of a hand-built zip: its data already stored (method 0) or deflated (method 8). */
interface ZipEntry {
  readonly name: string;
  readonly method: 0 | 8;
  readonly crc: number;
  readonly size: number;
  readonly data: Buffer;
}

/** Local headers with data, the central directory and its end record (no zip64: sizes under 4 GiB). */
function zipEntries(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt16LE(0x2021, 12); // 1996-01-01: any valid DOS date
    local.writeUInt32LE(entry.crc >>> 0, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made on Unix, so the external attributes carry a mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(entry.method, 10);
    central.writeUInt16LE(0x2021, 14);
    central.writeUInt32LE(entry.crc >>> 0, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
