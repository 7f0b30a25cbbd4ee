// An async handler: greets with the function's own environment variable.
export const handler = async (event) => {
  return { message: `${process.env.GREETING}, ${event.name ?? 'world'}!` };
};
