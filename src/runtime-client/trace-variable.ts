/**
 * @module runtime-client/trace-variable
 * The invocation's `_X_AMZN_TRACE_ID` in a runtime process, held in JavaScript instead of the C environment.
 * Setting a variable of the real environment calls the C library's `setenv`, and glibc keeps every string `setenv`
 * was ever given (a caller may still hold one): a new trace header at every invocation grew a long-lived runtime by
 * about 220 bytes per invocation for good (measured: 66 MB after 300,000), and each set got slower as the C
 * library's list of kept strings grew. Here `process.env` is a view of the real environment that holds this one
 * variable itself: function code reads, writes, deletes and lists it as before, and the child processes it starts
 * get it, since Node.js builds their environment from `process.env`. Only native code calling `getenv` misses it.
 */
import { environmentVariable, environmentViewTarget } from '../runtime/environment-view.js';

/** The one variable that changes at every invocation. */
export const TRACE_VARIABLE = '_X_AMZN_TRACE_ID';

/** `process.env` holding `_X_AMZN_TRACE_ID` itself, from construction until `release`. */
export class TraceVariable {
  private header: string | undefined;
  private readonly real = process.env;

  /** Takes over `process.env`, with the real environment's `_X_AMZN_TRACE_ID`, if any, as the held value. */
  constructor() {
    const real = this.real;
    this.header = real[TRACE_VARIABLE];
    delete real[TRACE_VARIABLE];
    process.env = new Proxy(environmentViewTarget(), {
      get: (_, key) => (key === TRACE_VARIABLE ? this.header : typeof key === 'string' ? real[key] : undefined),
      set: (_, key, value) => {
        // Node.js turns what is assigned into a string: so does the held variable.
        if (key === TRACE_VARIABLE) this.header = String(value);
        else if (typeof key === 'string') real[key] = value as string;
        return true;
      },
      has: (_, key) => (key === TRACE_VARIABLE ? this.header !== undefined : key in real),
      deleteProperty: (_, key) => {
        if (key === TRACE_VARIABLE) this.header = undefined;
        else if (typeof key === 'string') delete real[key];
        return true;
      },
      ownKeys: () => {
        // Native code may still have set it in the real environment: listed once, as held (a Proxy may list no key twice).
        const keys = Reflect.ownKeys(real).filter((key) => key !== TRACE_VARIABLE);
        if (this.header !== undefined) keys.push(TRACE_VARIABLE);
        return keys;
      },
      getOwnPropertyDescriptor: (_, key) => {
        if (key !== TRACE_VARIABLE) return Reflect.getOwnPropertyDescriptor(real, key);
        return this.header === undefined ? undefined : environmentVariable(this.header);
      },
      defineProperty: (_, key, descriptor) => {
        if (key !== TRACE_VARIABLE) return Reflect.defineProperty(real, key, descriptor);
        this.header = String(descriptor.value);
        return true;
      },
    });
  }

  /** The invocation's header; `undefined` removes the variable. */
  set(header: string | undefined): void {
    this.header = header;
  }

  /** Gives `process.env` back to the real environment, with the variable as it is now. */
  release(): void {
    if (this.header !== undefined) this.real[TRACE_VARIABLE] = this.header;
    process.env = this.real;
  }
}
