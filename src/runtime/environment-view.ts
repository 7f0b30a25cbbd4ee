/**
 * @module runtime/environment-view
 * The target of a `process.env` that is a Proxy (an inline function's scoped view, a runtime's held
 * `_X_AMZN_TRACE_ID`). `util.inspect`, and so `console.log(process.env)`, formats a Proxy's target, not what
 * its traps show, so that inspecting has no side effects: an empty target printed `{}`. This one's custom
 * inspection prints the variables the view shows.
 */
import { inspect } from '../handler/node-builtins.js';

/** An empty object to be the target of a Proxy standing for `process.env`, inspected as the variables the Proxy shows. */
export function environmentViewTarget(): NodeJS.ProcessEnv {
  const target = {} as NodeJS.ProcessEnv;
  Object.defineProperty(target, inspect.custom, {
    // `this` is the Proxy: a copy of what it shows, inspected with the caller's options.
    value(this: NodeJS.ProcessEnv, _depth: number, options: object) {
      return inspect({ ...this }, options);
    },
    configurable: true,
  });
  return target;
}

/** A variable of a `process.env` view, described as Node.js describes the real environment's. */
export function environmentVariable(value: string | undefined): PropertyDescriptor {
  return { value, writable: true, enumerable: true, configurable: true };
}
