/**
 * @module runtime-client/http-response-parser
 * An incremental HTTP/1.1 response parser, just enough for the Runtime API client: status,
 * headers, and a body framed by `Content-Length`, `Transfer-Encoding: chunked` (what Go's
 * net/http, and so AWS's Runtime API, sends for larger bodies) or the end of the connection.
 * Bytes may arrive in any split: a head, a chunk-size line or a multi-byte character may
 * straddle two reads, and one read may hold several responses.
 */

/** One complete response. */
export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, `, as node:http does for unknown names. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body, decoded as UTF-8 once complete. */
  readonly body: string;
  /** Whether the server keeps the connection open for the next request. */
  readonly keepAlive: boolean;
}

/** Called once per complete response, in order. */
export type OnHttpResponse = (response: HttpResponse) => void;

// Where the parser is within a response.
const HEAD = 0;
const BODY = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_END = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;

/** A head (or one chunk-size or trailer line) larger than this is refused rather than buffered without end. */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = 0x0a0d; // "\r\n" read as a little-endian uint16
const CRLF_TEXT = '\r\n';

const EMPTY_HEADERS: ReadonlyMap<string, string> = new Map();

/** Parses the responses of one connection from the bytes it reads, in order. */
export class HttpResponseParser {
  private state = HEAD;
  /** Bytes read but not consumed yet (a partial head or chunk line); empty between reads otherwise. */
  private pending: Buffer | undefined;
  private status = 0;
  private headers: ReadonlyMap<string, string> = EMPTY_HEADERS;
  private keepAlive = true;
  /** Body bytes still expected: of the whole body (BODY) or of the current chunk (CHUNK_DATA). */
  private remaining = 0;
  /** The body so far, as slices of the reads (not copied until the body is complete). */
  private parts: Buffer[] = [];
  private bodyBytes = 0;
  /** Whether any byte of the current response has been read. */
  private started = false;

  constructor(private readonly onResponse: OnHttpResponse) {}

  /** Whether a response has begun arriving and is not complete: a connection lost now lost a response. */
  get inResponse(): boolean {
    return this.started;
  }

  /** Parses bytes read from the connection, calling `onResponse` for each response they complete; throws on malformed input. */
  feed(data: Buffer): void {
    let buffer = data;
    if (this.pending !== undefined) {
      buffer = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    let at = 0;
    const end = buffer.length;
    while (at < end) {
      this.started = true;
      switch (this.state) {
        case HEAD: {
          const headEnd = buffer.indexOf('\r\n\r\n', at, 'latin1');
          if (headEnd < 0) return this.keep(buffer, at, 'response head');
          if (headEnd - at > MAX_HEAD_BYTES) throw new Error('the response head is too large');
          // Header values are Latin-1, as node:http reads them.
          this.parseHead(buffer.toString('latin1', at, headEnd));
          at = headEnd + 4;
          break;
        }
        case BODY: {
          const take = Math.min(this.remaining, end - at);
          this.addPart(buffer, at, at + take);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.complete();
          break;
        }
        case CHUNK_SIZE: {
          const lineEnd = buffer.indexOf(CRLF_TEXT, at, 'latin1');
          if (lineEnd < 0) return this.keep(buffer, at, 'chunk-size line');
          this.remaining = chunkSize(buffer.toString('latin1', at, lineEnd));
          at = lineEnd + 2;
          this.state = this.remaining === 0 ? TRAILERS : CHUNK_DATA;
          break;
        }
        case CHUNK_DATA: {
          const take = Math.min(this.remaining, end - at);
          this.addPart(buffer, at, at + take);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = CHUNK_END;
          break;
        }
        case CHUNK_END: {
          if (end - at < 2) return this.keep(buffer, at, 'chunk end');
          if (buffer.readUInt16LE(at) !== CRLF) throw new Error('a chunk does not end with CRLF');
          at += 2;
          this.state = CHUNK_SIZE;
          break;
        }
        case TRAILERS: {
          // Trailer fields are read past, not kept: the Runtime API sends none that the client needs.
          const lineEnd = buffer.indexOf(CRLF_TEXT, at, 'latin1');
          if (lineEnd < 0) return this.keep(buffer, at, 'trailer line');
          const empty = lineEnd === at;
          at = lineEnd + 2;
          if (empty) this.complete();
          break;
        }
        default: {
          this.addPart(buffer, at, end);
          at = end;
        }
      }
    }
  }

  /**
   * The connection ended: completes a response whose body runs until the close. Returns
   * whether a response was left incomplete (and so is lost).
   */
  finish(): boolean {
    if (this.state === UNTIL_CLOSE) {
      this.complete();
      return false;
    }
    return this.started;
  }

  /** Keeps the unparsed rest of `buffer` for the next read. */
  private keep(buffer: Buffer, at: number, what: string): void {
    if (buffer.length - at > MAX_HEAD_BYTES) throw new Error(`the ${what} is too large`);
    this.pending = buffer.subarray(at);
  }

  private parseHead(head: string): void {
    // "HTTP/1.1 200 OK": the reason phrase is not needed.
    let lineEnd = head.indexOf('\r\n');
    if (lineEnd < 0) lineEnd = head.length;
    if (!head.startsWith('HTTP/1.') || head.charCodeAt(8) !== 0x20) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(head.slice(0, 40))}`);
    const status = Number(head.slice(9, 12));
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new Error(`bad status in ${JSON.stringify(head.slice(0, 40))}`);
    const http10 = head.charCodeAt(7) === 0x30;
    // A Map, not an object: a header named `__proto__` is just a header.
    const headers = new Map<string, string>();
    while (lineEnd < head.length) {
      const start = lineEnd + 2;
      lineEnd = head.indexOf('\r\n', start);
      if (lineEnd < 0) lineEnd = head.length;
      const colon = head.indexOf(':', start);
      if (colon < 0 || colon > lineEnd || colon === start) throw new Error(`bad header line ${JSON.stringify(head.slice(start, Math.min(lineEnd, start + 40)))}`);
      const name = head.slice(start, colon).toLowerCase();
      // Optional whitespace around the value: usually one space before it, which needs no trim().
      let valueStart = colon + 1;
      while (valueStart < lineEnd && isBlank(head.charCodeAt(valueStart))) valueStart++;
      let valueEnd = lineEnd;
      while (valueEnd > valueStart && isBlank(head.charCodeAt(valueEnd - 1))) valueEnd--;
      const value = head.slice(valueStart, valueEnd);
      const previous = headers.get(name);
      headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
    // 1xx (100 Continue, 103 Early Hints) precede the real response; none has a body.
    if (status < 200) return;
    this.status = status;
    this.headers = headers;
    const connection = headers.get('connection')?.toLowerCase();
    this.keepAlive = http10 ? connection === 'keep-alive' : connection !== 'close';
    const transferEncoding = headers.get('transfer-encoding');
    const contentLength = headers.get('content-length');
    if (status === 204 || status === 304) {
      this.complete();
    } else if (transferEncoding !== undefined && /(?:^|,)\s*chunked\s*$/i.test(transferEncoding)) {
      // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3).
      this.state = CHUNK_SIZE;
    } else if (contentLength !== undefined) {
      if (!/^\d{1,15}$/.test(contentLength)) throw new Error(`bad Content-Length ${JSON.stringify(contentLength)}`);
      this.remaining = Number(contentLength);
      if (this.remaining === 0) this.complete();
      else this.state = BODY;
    } else {
      this.state = UNTIL_CLOSE;
      this.keepAlive = false;
    }
  }

  private addPart(buffer: Buffer, from: number, to: number): void {
    if (to === from) return;
    this.parts.push(from === 0 && to === buffer.length ? buffer : buffer.subarray(from, to));
    this.bodyBytes += to - from;
  }

  private complete(): void {
    const parts = this.parts;
    // Decoded only now, whole: a character split between two reads decodes correctly.
    const body = parts.length === 0 ? '' : parts.length === 1 ? parts[0]!.toString() : Buffer.concat(parts, this.bodyBytes).toString();
    const response: HttpResponse = { status: this.status, headers: this.headers, body, keepAlive: this.keepAlive };
    this.state = HEAD;
    this.parts = [];
    this.bodyBytes = 0;
    this.headers = EMPTY_HEADERS;
    this.started = false;
    this.onResponse(response);
  }
}

/** Space or tab. */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** The size in a chunk-size line, `1a2b` or `1a2b;name=value` (extensions are ignored). */
function chunkSize(line: string): number {
  const semicolon = line.indexOf(';');
  const hex = (semicolon < 0 ? line : line.slice(0, semicolon)).trim();
  if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new Error(`bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
  return parseInt(hex, 16);
}
