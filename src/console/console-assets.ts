/**
 * @module console/console-assets
 * The console's page, script and style: hand-written files in the package's `console/` folder,
 * read once at start and served as they are, with headers that let the page run nothing but them.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

/** The headers of every console response: no inline script or style, no framing, no sniffing, no referrer. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/** One static file. */
interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** The console's files, by name. */
export class ConsoleAssets {
  private readonly assets = new Map<string, Asset>();

  /** Reads the files from `dir` (default: the package's `console/` folder). */
  constructor(dir: URL = new URL('../../../console/', import.meta.url)) {
    for (const [name, type] of Object.entries(FILES)) this.assets.set(name, { body: readFileSync(new URL(name, dir)), type });
  }

  /** Answers with the file `name`; false when there is no such file. */
  serve(name: string, response: ServerResponse): boolean {
    const asset = this.assets.get(name);
    if (!asset) return false;
    response.writeHead(200, { ...CONSOLE_SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': asset.body.length }).end(asset.body);
    return true;
  }
}
