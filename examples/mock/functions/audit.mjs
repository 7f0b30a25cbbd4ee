// "mock": false: this function runs its code even under --mock.
export const handler = async (event) => ({ audited: true, event });
