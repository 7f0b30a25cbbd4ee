// A CommonJS callback handler that fails: the caller gets X-Amz-Function-Error and the error payload.
class OrderRejectedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'OrderRejectedError';
  }
}

exports.handler = (event, context, callback) => {
  console.error('rejecting order', event.orderId);
  callback(new OrderRejectedError(`order ${event.orderId ?? '?'} cannot be placed`));
};
