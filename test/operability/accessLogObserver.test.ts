import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeStoreFailure } from '../../src/observability/accessLogObserver.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

describe('describeStoreFailure', () => {
  it('names a PostgreSQL error by class and SQLSTATE, never by its message, which quotes the value', async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    let error: unknown;
    try {
      // A synthetic personnummer-shaped value the server quotes back in its message.
      await client.query("SELECT '19900101-1234'::int");
    } catch (caught) {
      error = caught;
    } finally {
      await client.end();
    }
    expect((error as Error).message).toContain('19900101-1234');
    const described = describeStoreFailure(error);
    expect(described).toEqual({ errorClass: 'DatabaseError', errorCode: '22P02' });
    expect(JSON.stringify(described)).not.toContain('1234');
  });

  it.each([
    ['an error without a code', new TypeError('x'), { errorClass: 'TypeError' }],
    ['a code that is not a short token', Object.assign(new Error('x'), { code: 'value 19900101-1234 rejected' }), { errorClass: 'Error' }],
    ['something thrown that is not an Error', '19900101-1234', {}],
  ])('%s', (_, error, expected) => {
    expect(describeStoreFailure(error)).toEqual(expected);
  });
});
