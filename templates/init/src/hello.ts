// A Lambda handler in TypeScript: serverfull runs it as it is, no build step.
// It answers both a direct invocation ({ "name": "Ada" }) and the API Gateway route GET /hello?name=Ada.
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

interface HelloEvent {
  readonly name?: string;
}

const greeting = process.env.GREETING ?? 'Hello';

function isHttpEvent(event: HelloEvent | APIGatewayProxyEventV2): event is APIGatewayProxyEventV2 {
  return 'requestContext' in event;
}

export const handler = async (event: HelloEvent | APIGatewayProxyEventV2): Promise<{ message: string } | APIGatewayProxyResultV2> => {
  if (isHttpEvent(event)) {
    const name = event.queryStringParameters?.name ?? 'world';
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `${greeting}, ${name}!` }) };
  }
  return { message: `${greeting}, ${event.name ?? 'world'}!` };
};
