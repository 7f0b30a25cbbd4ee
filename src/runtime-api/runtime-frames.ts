/**
 * @module runtime-api/runtime-frames
 * The frames of the private channel between serverfull and its own Node.js runtime client: the
 * Runtime API's calls (`next`, `response`, `error`, `init/error`) and answers, each as a small JSON
 * head and a UTF-8 body, length-prefixed. The channel is a socket pair the runtime inherits as a file
 * descriptor: no HTTP to parse on either side, and no one outside the environment's processes holds it.
 * Custom runtimes and AWS's own clients keep the HTTP Runtime API.
 *
 * A frame: head length (u32 BE), body length (u32 BE), the head (JSON), the body.
 */

/** The environment variable that names the channel's file descriptor in the runtime. */
export const RUNTIME_CHANNEL_FD_VARIABLE = '_SERVERFULL_RUNTIME_CHANNEL_FD';
/** The file descriptor the channel takes in the runtime (after stdin, stdout and stderr). */
export const RUNTIME_CHANNEL_FD = 3;
/** A head is a few fields: anything longer is not a frame of ours. */
const MAX_HEAD_BYTES = 64 * 1024;
const PREFIX_BYTES = 8;

/** A runtime's call, as a frame head. */
export type RuntimeCallHead =
  | { readonly call: 'next' }
  // `next`: the runtime asks for its next event with its answer; serverfull then answers with that event, not with a status.
  | { readonly call: 'response'; readonly requestId: string; readonly next?: true }
  | { readonly call: 'error'; readonly requestId: string; readonly errorType?: string; readonly next?: true }
  | { readonly call: 'init-error'; readonly errorType?: string };

/** What serverfull sends the runtime: an invocation (its event is the body), or the answer to a call. */
export type RuntimeAnswerHead =
  | {
    readonly answer: 'invocation'; readonly requestId: string; readonly deadlineMs: number; readonly invokedFunctionArn: string;
    readonly traceId?: string; readonly clientContext?: string; readonly cognitoIdentity?: string;
  }
  | { readonly answer: 'status'; readonly status: number };

/** One frame: its head and body, ready to write. */
export function encodeFrame(head: object, body: string): Buffer {
  const headText = JSON.stringify(head);
  const headBytes = Buffer.byteLength(headText);
  const bodyBytes = Buffer.byteLength(body);
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + headBytes + bodyBytes);
  frame.writeUInt32BE(headBytes, 0);
  frame.writeUInt32BE(bodyBytes, 4);
  frame.write(headText, PREFIX_BYTES, 'utf8');
  frame.write(body, PREFIX_BYTES + headBytes, 'utf8');
  return frame;
}

/**
 * Cuts a byte stream into frames. A body over `maxBody` bytes is dropped as it arrives (never held)
 * and reported as `undefined`; a head that is too long or not a JSON object ends the stream with `onInvalid`.
 */
export class FrameReader {
  private pending: Buffer | undefined;
  /** Bytes of an oversized body still to drop. */
  private skipping = 0;

  constructor(
    private readonly maxBody: number,
    private readonly onFrame: (head: Record<string, unknown>, body: string | undefined) => void,
    private readonly onInvalid: (reason: string) => void,
  ) {}

  /** Takes the next bytes of the stream. */
  push(chunk: Buffer): void {
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    if (this.skipping > 0) {
      const dropped = Math.min(this.skipping, data.length);
      this.skipping -= dropped;
      data = data.subarray(dropped);
    }
    let offset = 0;
    while (data.length - offset >= PREFIX_BYTES) {
      const headBytes = data.readUInt32BE(offset);
      const bodyBytes = data.readUInt32BE(offset + 4);
      if (headBytes > MAX_HEAD_BYTES) return this.onInvalid(`a frame head of ${headBytes} bytes`);
      const oversized = bodyBytes > this.maxBody;
      const needed = PREFIX_BYTES + headBytes + (oversized ? 0 : bodyBytes);
      if (data.length - offset < needed) break;
      const headStart = offset + PREFIX_BYTES;
      let head: unknown;
      try {
        head = JSON.parse(data.toString('utf8', headStart, headStart + headBytes));
      } catch {
        head = undefined;
      }
      if (typeof head !== 'object' || head === null || Array.isArray(head)) return this.onInvalid('a frame head that is not a JSON object');
      if (oversized) {
        const available = data.length - (headStart + headBytes);
        const dropped = Math.min(available, bodyBytes);
        this.skipping = bodyBytes - dropped;
        offset = headStart + headBytes + dropped;
        this.onFrame(head as Record<string, unknown>, undefined);
        if (this.skipping > 0) return;
        continue;
      }
      const bodyStart = headStart + headBytes;
      this.onFrame(head as Record<string, unknown>, data.toString('utf8', bodyStart, bodyStart + bodyBytes));
      offset = bodyStart + bodyBytes;
    }
    if (offset < data.length) this.pending = offset === 0 ? data : Buffer.from(data.subarray(offset));
  }
}
