/**
 * @module cli/logs-client
 * A minimal AWS JSON 1.1 client for `serverfull logs` (CloudWatch Logs) and `serverfull params`
 * (SSM): over `fetch`, signed with SigV4 for the service with the standard credential chain (or
 * placeholder keys), as the AWS SDK would sign it. Hand-written rather than the SDKs' clients so that
 * the CLI can send serverfull's own `traceId` member, and carries no second SDK as a dependency.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../auth/node-sha256.js';

/** An error the server answered with: its `__type` and message. */
export class LogsServiceError extends Error {
  constructor(readonly type: string, message: string, readonly status: number) {
    super(message);
    this.name = type;
  }
}

/** Calls the operations of one AWS JSON 1.1 API on one serverfull endpoint. */
export interface LogsClient {
  /** Sends `operation` with `body`; resolves with the parsed answer, rejects with a `LogsServiceError` or a network error. */
  call(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** A CloudWatch Logs client for `endpoint` (`http://host:port`), in `region` (the credential scope's). */
export function logsClient(endpoint: string, region?: string): Promise<LogsClient> {
  return json11Client(endpoint, 'logs', 'Logs_20140328.', region);
}

/** A client of the AWS JSON 1.1 API signed as `service`, whose operations `X-Amz-Target` names after `targetPrefix`. */
export async function json11Client(endpoint: string, service: string, targetPrefix: string, region = process.env.AWS_REGION ?? 'us-east-1'): Promise<LogsClient> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const chain = defaultProvider();
  const credentials = async () => {
    try {
      return await chain();
    } catch {
      // The same placeholder keys as the Lambda client: a server without auth accepts any.
      return { accessKeyId: 'serverfull', secretAccessKey: 'serverfull' };
    }
  };
  const signer = new SignatureV4({ credentials, region, service, sha256: NodeSha256, uriEscapePath: true });
  const url = new URL(endpoint);
  return {
    async call(operation, body) {
      const text = JSON.stringify(body);
      const signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: '/',
        query: {},
        headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${targetPrefix}${operation}` },
        body: text,
      });
      const { host: _host, ...headers } = signed.headers;
      const response = await fetch(new URL('/', url), { method: 'POST', headers, body: text });
      const answer = await response.text();
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(answer) as Record<string, unknown>;
      } catch {
        throw new LogsServiceError(`HTTP ${response.status}`, `not an AWS response (${answer.split('\n')[0]!.slice(0, 300)})`, response.status);
      }
      if (!response.ok) {
        const type = String(parsed.__type ?? response.headers.get('x-amzn-errortype') ?? `HTTP ${response.status}`).replace(/^.*#/, '');
        throw new LogsServiceError(type, String(parsed.message ?? parsed.Message ?? ''), response.status);
      }
      return parsed;
    },
  };
}
