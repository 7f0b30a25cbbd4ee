// Never loaded while the function is mocked: its "mock" block answers instead.
export const handler = async () => { throw new Error('the order service is not reachable from here'); };
