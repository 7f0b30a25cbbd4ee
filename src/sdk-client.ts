/**
 * @module sdk-client
 * The one way serverfull builds an AWS SDK Lambda client for a serverfull endpoint (the CLI's
 * client commands and the testing toolkit), and the one way it words the client's failures.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { defaultProvider } from '@aws-sdk/credential-provider-node';

/** Keys used when the credential chain finds none: serverfull does not check signatures yet, AWS would refuse them. */
export const PLACEHOLDER_CREDENTIALS = Object.freeze({ accessKeyId: 'serverfull', secretAccessKey: 'serverfull' });

/** An SDK client for a serverfull endpoint, signing with the standard credential chain, or placeholder keys when it has none. */
export function sdkClient(endpoint: string, region = process.env.AWS_REGION ?? 'us-east-1'): LambdaClient {
  const chain = defaultProvider();
  return new LambdaClient({
    endpoint,
    region,
    // One attempt: a retry would hide a failing server from the caller, and replay non-idempotent calls.
    maxAttempts: 1,
    credentials: async () => {
      try {
        return await chain();
      } catch {
        return PLACEHOLDER_CREDENTIALS;
      }
    },
  });
}

/** Network error codes that mean the server did not answer at all. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);

/**
 * One line for a failed SDK call: `<ErrorType>: <message>` for an error the server sent (as every
 * AWS client prints it), or, when nothing answered, which endpoint and why, with the likely fix.
 */
export function describeSdkError(error: unknown, endpoint: string): string {
  const failure = error as {
    name?: string; message?: string; code?: string; $fault?: string; $response?: { statusCode?: number }; $responseBodyText?: string;
  };
  // A service error: the SDK parsed the response into the error type the server named.
  if (failure.$fault !== undefined) return `${failure.name ?? 'Error'}: ${failure.message ?? ''}`;
  // A response that is no AWS error (a proxy's page): its status, then why the SDK could not read it.
  if (failure.$response?.statusCode !== undefined) {
    const reason = (failure.$responseBodyText ?? failure.message ?? '').split('\n')[0]!.slice(0, 300);
    return `HTTP ${failure.$response.statusCode}: not an AWS response (${reason})`;
  }
  const code = failure.code ?? (failure as { cause?: { code?: string } }).cause?.code;
  if (code !== undefined && UNREACHABLE.has(code)) return `cannot reach ${endpoint} (${code}): is the server running? (serverfull start)`;
  return `${failure.name ?? 'Error'}: ${failure.message ?? String(error)}`;
}
