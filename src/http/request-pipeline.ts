/**
 * @module http/request-pipeline
 * The one way in for every API request, on every server (Invoke and management APIs, API Gateway):
 * request id → route match → `beforeBody` hooks → body read once under the route's limit →
 * `beforeRoute` hooks → the route's handler → error rendering → log line → `finished` hooks.
 * Each API brings its routing, handlers and error wire shape (`PipelineApi`); everything else is
 * here, once. Plain `node:http`, callbacks rather than promises, state on the request itself.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from './node-http.js';
import { AwsError } from '../errors.js';
import type { LogFields, Logger } from '../log.js';
import { ApiRequest, NO_BODY, type BodyReceiver } from './api-request.js';
import { BodyTooLargeError, readBody } from './request-body.js';
import { runRequestHooks, type RequestHooks, type RequestOutcome } from './request-hooks.js';
import { applyServerLimits, LARGE_BODY_BYTES, TIMEOUT_CHECK_INTERVAL_MS, UNBOUNDED, type ServerLimits } from './server-limits.js';

/**
 * Ends a request: renders `error` when there is one (an `AwsError`, or anything else as a logged
 * `ServiceException`), writes the log line and tells the `finished` hooks. The first call counts.
 * Handlers receive the pipeline's one instance: no closure per request.
 */
export type FinishRequest = (request: ApiRequest, response: ServerResponse, error: unknown, fields?: LogFields) => void;

/** What one API brings to the pipeline: its routing, its handlers and the wire shape of its errors. */
export interface PipelineApi<T> {
  /** Names the API to hooks (`RequestOutcome.api`). */
  readonly name: string;
  /** The message of its per-request log line. */
  readonly logMessage: string;
  /** The message logged before an unexpected error's stack. */
  readonly failureMessage: string;
  /** Whether the log line's `path` keeps the query (the gateway's does). */
  readonly logsQuery: boolean;
  /**
   * Matches the request: sets `target`, `operation`, `params` and `bodyLimit`. Returns the error to
   * answer when nothing matches; it is rendered after the `beforeBody` hooks have seen the request.
   */
  match(request: ApiRequest<T>): AwsError | undefined;
  /** Answers a matched request whose body is read and that the hooks let through; ends with `finish`. */
  handle(request: ApiRequest<T>, response: ServerResponse, finish: FinishRequest): void;
  /**
   * The log fields of a request whose client went away while sending its body: what it was for
   * (the function, the operation), since no handler ran to say so.
   */
  clientAborted(request: ApiRequest<T>): LogFields;
  /** Writes `error` in this API's wire shape (headers not sent yet). */
  renderError(request: ApiRequest<T>, response: ServerResponse, error: AwsError): void;
}

/** An HTTP server running `api` through the pipeline, with `hooks`, within `limits`. */
export function createPipelineServer<T>(api: PipelineApi<T>, hooks: RequestHooks, logger: Logger, limits: ServerLimits = UNBOUNDED): Server {
  const pipeline = new RequestPipeline(api, hooks, logger, limits.maxLargeBodies);
  const server = createServer({ IncomingMessage: ApiRequest, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, pipeline.listener);
  applyServerLimits(server, limits);
  return server;
}

/** The pipeline of one server; exported for servers that need `createServer` options of their own. */
export class RequestPipeline<T> implements BodyReceiver {
  constructor(
    private readonly api: PipelineApi<T>,
    private readonly hooks: RequestHooks,
    private readonly logger: Logger,
    private readonly maxLargeBodies = Infinity,
  ) {}

  /** Large bodies being received or handled now. */
  private largeBodies = 0;

  /** Frees a large body's place once its response is done; shared, so no closure per request. */
  private readonly releaseLargeBody = (): void => {
    this.largeBodies--;
  };

  /** The `node:http` request listener; the server must build `ApiRequest`s (see `createPipelineServer`). */
  readonly listener = (request: IncomingMessage, response: ServerResponse): void => {
    this.receive(request as ApiRequest<T>, response);
  };

  /** Stages up to the body: id, match, `beforeBody` hooks, then the body read under the route's limit. */
  receive(request: ApiRequest<T>, response: ServerResponse): void {
    request.requestId = randomUUID();
    request.started = performance.now();
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    if (queryStart === -1) {
      request.path = url;
    } else {
      request.path = url.slice(0, queryStart);
      request.rawQuery = url.slice(queryStart + 1);
    }
    try {
      let refusal = this.api.match(request);
      const hooks = this.hooks.beforeBody;
      // A hook's refusal comes before "no such route": an unauthenticated caller learns nothing of the routes.
      if (hooks.length !== 0) refusal = runRequestHooks(hooks, request) ?? refusal;
      if (refusal !== undefined) return this.finish(request, response, refusal);
      if (request.bodyLimit === NO_BODY) {
        request.resume();
        return this.route(request, response);
      }
      if (request.bodyLimit >= LARGE_BODY_BYTES && isLargeBody(request)) {
        if (this.largeBodies >= this.maxLargeBodies) {
          return this.finish(request, response, new AwsError('TooManyRequestsException', 'Too many large request bodies are being received at once: retry later'));
        }
        this.largeBodies++;
        response.once('close', this.releaseLargeBody);
      }
      readBody(request, response, this);
    } catch (error) {
      this.finish(request, response, error);
    }
  }

  /** Called by the body reader, once. */
  bodyRead(request: ApiRequest, response: ServerResponse, error: Error | undefined): void {
    if (error === undefined) return this.route(request as ApiRequest<T>, response);
    if (error instanceof BodyTooLargeError) {
      return this.finish(request, response, new AwsError(
        'RequestEntityTooLargeException',
        `Request must be smaller than ${error.limit} bytes for the ${request.operation} operation`,
      ));
    }
    // The client went away while sending: nobody is left to answer.
    response.destroy();
    this.finish(request, response, undefined, { ...this.api.clientAborted(request as ApiRequest<T>), clientAborted: true });
  }

  /** `beforeRoute` hooks from the `first`, then the handler. */
  private route(request: ApiRequest<T>, response: ServerResponse, first = 0): void {
    try {
      const hooks = this.hooks.beforeRoute;
      for (let i = first; i < hooks.length; i++) {
        const refusal = hooks[i]!(request);
        if (refusal instanceof Promise) {
          refusal.then(
            (later) => later === undefined ? this.route(request, response, i + 1) : this.finish(request, response, later),
            (error: unknown) => this.finish(request, response, error),
          );
          return;
        }
        if (refusal !== undefined) return this.finish(request, response, refusal);
      }
      this.api.handle(request, response, this.finish);
    } catch (error) {
      this.finish(request, response, error);
    }
  }

  /** See `FinishRequest`. An arrow property: created once per server, handed to every handler. */
  readonly finish: FinishRequest = (request, response, error, fields) => {
    if (request.answered) return;
    request.answered = true;
    if (error !== undefined) this.renderError(request as ApiRequest<T>, response, error);
    const logged = this.logger.enabled('info');
    const finished = this.hooks.finished;
    if (!logged && finished.length === 0) return;
    const durationMs = performance.now() - request.started;
    if (logged) {
      this.logger.log('info', this.api.logMessage, {
        method: request.method,
        path: this.api.logsQuery ? request.url : request.path,
        status: response.statusCode,
        durationMs: Math.round(durationMs * 100) / 100,
        requestId: request.requestId,
        ...fields,
      });
    }
    if (finished.length !== 0) this.tellFinished(request, response.statusCode, durationMs);
  };

  /** The one place errors become responses: unexpected ones are logged and answered as `ServiceException`. */
  private renderError(request: ApiRequest<T>, response: ServerResponse, error: unknown): void {
    if (!(error instanceof AwsError)) {
      this.logger.log('error', `${this.api.failureMessage}: ${(error as Error)?.stack ?? String(error)}`, { requestId: request.requestId });
      error = new AwsError('ServiceException', 'An internal error occurred.');
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    this.api.renderError(request, response, error as AwsError);
  }

  private tellFinished(request: ApiRequest, status: number, durationMs: number): void {
    const outcome: RequestOutcome = {
      api: this.api.name,
      requestId: request.requestId,
      method: request.method ?? 'GET',
      operation: request.operation,
      status,
      durationMs,
    };
    for (const hook of this.hooks.finished) {
      try {
        hook(outcome);
      } catch (error) {
        // The answer is out already: a failing observer must not take the server down.
        this.logger.log('error', `finished hook failed: ${(error as Error)?.stack ?? String(error)}`, { requestId: request.requestId });
      }
    }
  }
}

/** Whether a request may bring a large body: it says so in `Content-Length`, or it does not say how large (chunked). */
function isLargeBody(request: ApiRequest): boolean {
  const length = request.headers['content-length'];
  return length === undefined ? request.headers['transfer-encoding'] !== undefined : Number(length) >= LARGE_BODY_BYTES;
}
