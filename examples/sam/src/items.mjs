// Items API handlers, as they would run behind API Gateway (HTTP API, payload format 2.0).
const items = new Map([['1', { id: '1', name: 'teapot' }]]);

export const get = async (event) => {
  const item = items.get(event.pathParameters.id);
  if (!item) return { statusCode: 404, body: JSON.stringify({ message: `no item ${event.pathParameters.id}` }) };
  return item; // a bare object: API Gateway answers 200 with it as JSON
};

export const create = async (event) => {
  const item = JSON.parse(event.body ?? '{}');
  item.id = String(items.size + 1);
  items.set(item.id, item);
  return { statusCode: 201, headers: { location: `/items/${item.id}` }, body: JSON.stringify(item) };
};
