"""A Python Lambda function: an HTTP API (payload 2.0) handler that prices an order."""
import base64
import json
import logging

from orders.pricing import total

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    body = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    order = json.loads(body)
    logger.info("pricing %d items", len(order.get("items", [])))
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"total": total(order.get("items", [])), "requestId": context.aws_request_id}),
    }
