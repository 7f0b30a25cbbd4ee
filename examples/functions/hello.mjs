// An async handler: greets with the function's own environment variable. Invoked directly the
// name is in the event; through the gateway (GET /hello?name=Ada) it is a query parameter.
export const handler = async (event) => {
  const name = event.name ?? event.queryStringParameters?.name ?? 'world';
  return { message: `${process.env.GREETING}, ${name}!` };
};
