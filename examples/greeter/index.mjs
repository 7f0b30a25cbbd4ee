// A function to deploy through the management API (see the README's "Deployments").
// Change VERSION_LABEL, deploy again with --publish, and move the alias between versions.
const VERSION_LABEL = 'first';

export const handler = async (event) => ({
  greeting: `Hello, ${event?.name ?? 'world'}!`,
  code: VERSION_LABEL,
  version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
});
