/**
 * @module console/id-column
 * A fixed number of ids (request ids, trace ids) kept as bytes rather than strings. The console keeps
 * the last 1,000 invocations; kept as strings, their ids were about a third of what each of the server's
 * young-generation collections copied under load (a trace id is a slice that keeps its whole trace
 * header): as bytes they are copied by none, and the collections pause for less.
 */

/** Marks a slot whose id is kept as a string: longer than the width, or not ASCII. */
const AS_STRING = 255;

/** `slots` ids of up to `width` ASCII characters each, in one byte array; any other id is kept as a string. */
export class IdColumn {
  private readonly bytes: Uint8Array;
  private readonly lengths: Uint8Array;
  /** The ids that did not fit, by slot: none for the ids serverfull makes. */
  private readonly strings = new Map<number, string>();

  constructor(slots: number, private readonly width: number) {
    if (width >= AS_STRING) throw new RangeError(`an id column is at most ${AS_STRING - 1} bytes wide`);
    this.bytes = new Uint8Array(slots * width);
    this.lengths = new Uint8Array(slots);
  }

  /** Keeps `id` in `slot`, in place of what it held. */
  set(slot: number, id: string): void {
    if (this.lengths[slot] === AS_STRING) this.strings.delete(slot);
    const start = slot * this.width;
    if (id.length <= this.width) {
      let i = 0;
      for (; i < id.length; i++) {
        const code = id.charCodeAt(i);
        if (code > 0x7f) break;
        this.bytes[start + i] = code;
      }
      if (i === id.length) {
        this.lengths[slot] = id.length;
        return;
      }
    }
    this.lengths[slot] = AS_STRING;
    this.strings.set(slot, id);
  }

  /** The id kept in `slot`. */
  get(slot: number): string {
    const length = this.lengths[slot]!;
    if (length === AS_STRING) return this.strings.get(slot)!;
    const start = slot * this.width;
    return String.fromCharCode(...this.bytes.subarray(start, start + length));
  }
}
