import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../src/errors.js';
import { decodeZipFile, field, paginate, parseJsonBody, readEnvironment } from '../../src/api/management-request.js';

const items = ['a', 'b', 'c', 'd', 'e'];
const query = (params: Record<string, string>) => new URLSearchParams(params);

function awsError(type: string, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AwsError);
    assert.equal(error.type, type);
    if (message) assert.match(error.message, message);
    return true;
  };
}

describe('paginate', () => {
  it('walks all items once with the returned markers', () => {
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const { page, nextMarker } = paginate(items, (x) => x, query(marker ? { MaxItems: '2', Marker: marker } : { MaxItems: '2' }));
      seen.push(...page);
      marker = nextMarker;
    } while (marker);
    assert.deepEqual(seen, items);
  });

  it('continues after the marker even when that item was deleted meanwhile', () => {
    const first = paginate(items, (x) => x, query({ MaxItems: '2' }));
    const rest = paginate(['a', 'c', 'd', 'e'], (x) => x, query({ Marker: first.nextMarker! }));
    assert.deepEqual(rest.page, ['c', 'd', 'e']);
    assert.equal(rest.nextMarker, undefined);
  });

  it('defaults to 50 items and refuses MaxItems outside 1..10000 and forged markers', () => {
    const many = Array.from({ length: 60 }, (_, i) => String(i).padStart(3, '0'));
    assert.equal(paginate(many, (x) => x, query({})).page.length, 50);
    assert.throws(() => paginate(items, (x) => x, query({ MaxItems: '0' })), awsError('ValidationException', /greater than or equal to 1/));
    assert.throws(() => paginate(items, (x) => x, query({ MaxItems: '10001' })), awsError('ValidationException', /less than or equal to 10000/));
    assert.throws(() => paginate(items, (x) => x, query({ Marker: '!!!' })), awsError('InvalidParameterValueException', /Invalid Marker/));
  });
});

describe('request fields', () => {
  it('parses JSON object bodies only', () => {
    assert.deepEqual(parseJsonBody(Buffer.alloc(0)), {});
    assert.deepEqual(parseJsonBody(Buffer.from('{"a":1}')), { a: 1 });
    assert.throws(() => parseJsonBody(Buffer.from('[1]')), awsError('InvalidRequestContentException'));
    assert.throws(() => parseJsonBody(Buffer.from('{')), awsError('InvalidRequestContentException', /Could not parse request body into json/));
  });

  it('checks types and ranges with AWS validation messages', () => {
    assert.equal(field.integer({ Timeout: 5 }, 'Timeout', 'timeout', 1, 900), 5);
    assert.equal(field.integer({}, 'Timeout', 'timeout', 1, 900), undefined);
    assert.throws(() => field.integer({ Timeout: 1.5 }, 'Timeout', 'timeout', 1, 900), awsError('ValidationException', /Value '1.5' at 'timeout'/));
    assert.throws(() => field.string({ Handler: 'a b' }, 'Handler', 'handler', { pattern: /^[^\s]+$/ }), awsError('ValidationException', /regular expression pattern: \[\^\\s\]\+$/));
    assert.throws(() => field.string({ Description: 'x'.repeat(257) }, 'Description', 'description', { max: 256 }), awsError('ValidationException', /length less than or equal to 256/));
  });

  it('checks environment variables as AWS does', () => {
    assert.deepEqual(readEnvironment({ Environment: { Variables: { A_1: 'x' } } }), { A_1: 'x' });
    assert.equal(readEnvironment({}), undefined);
    assert.throws(() => readEnvironment({ Environment: { Variables: { '1A': 'x' } } }), awsError('ValidationException', /Map keys must satisfy constraint/));
    assert.throws(() => readEnvironment({ Environment: { Variables: { AWS_REGION: 'x', LAMBDA_TASK_ROOT: 'y' } } }), awsError('InvalidParameterValueException', /Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT$/));
    assert.throws(() => readEnvironment({ Environment: { Variables: { A: 1 } } }), awsError('ValidationException'));
  });

  it('decodes base64 zips and refuses anything else', () => {
    assert.deepEqual(decodeZipFile(Buffer.from('PK').toString('base64'), 'zipFile'), Buffer.from('PK'));
    assert.throws(() => decodeZipFile('not base64!', 'zipFile'), awsError('ValidationException'));
    assert.throws(() => decodeZipFile(42, 'zipFile'), awsError('ValidationException'));
  });
});
