// Never loaded while the function is mocked: a value generated from its "mock" schema answers instead.
export const handler = async () => { throw new Error('the customer database is not reachable from here'); };
