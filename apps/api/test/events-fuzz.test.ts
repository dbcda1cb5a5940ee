import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES } from '@hooklane/core';
import fc from 'fast-check';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

// Whatever a client sends to ingest or the delivery routes, the answer is a 4xx with the
// contract's error shape or a success: never a 500 and never a stack trace.
let api: TestApi;
let hook: string;
const TEAM = 5;

beforeAll(async () => {
  api = await startTestApi('eventsfuzz');
  const res = await request(api.app).post('/v1/webhooks').set(api.admin).send({ team_id: TEAM, url: 'http://127.0.0.1:9/', events: ['*'] });
  hook = res.body.id;
});

afterAll(async () => {
  await api.close();
});

const awkwardString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '\u0000', 'a\u0000', '\ud800', '\udfff x', '😀', ' '.repeat(300), '2026-02-06T12:00:00Z', '0000-01-01T00:00:00Z'),
);
const awkwardValue = fc.oneof(
  awkwardString,
  fc.integer(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1.5, null, true, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(awkwardString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

// Near-valid events: the real field names, each either sensible or awkward.
const eventBody = fc.record(
  {
    event: fc.oneof(fc.constantFrom(...EVENT_TYPES), awkwardValue),
    team_id: fc.oneof(fc.constant(TEAM), awkwardValue),
    project_id: fc.oneof(fc.constant(1), awkwardValue),
    data: fc.oneof(fc.dictionary(awkwardString, awkwardValue, { maxKeys: 4 }), awkwardValue),
    timestamp: awkwardValue,
    sender: awkwardValue,
    idempotency_key: awkwardValue,
    [`x${'_'}extra`]: awkwardValue,
  },
  { requiredKeys: [] },
);

function expectClientOrSuccess(res: request.Response, ok: number[]) {
  if (!ok.includes(res.status)) {
    expect([400, 403, 404, 409, 413, 415]).toContain(res.status);
    expect(res.body.error).toEqual({ code: expect.any(String), message: expect.any(String), details: expect.any(Array) });
  }
}

describe('fuzzing', () => {
  it('POST /v1/events never fails with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(eventBody, awkwardValue), async (body) => {
        const res = await request(api.app).post('/v1/events').set(api.admin).set('Content-Type', 'application/json').send(JSON.stringify(body));
        expectClientOrSuccess(res, [202]);
      }),
      { numRuns: 200 },
    );
  });

  it('POST /v1/events/batch never fails with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.record({ events: fc.array(fc.oneof(eventBody, awkwardValue), { maxLength: 5 }) }), awkwardValue), async (body) => {
        const res = await request(api.app).post('/v1/events/batch').set(api.admin).set('Content-Type', 'application/json').send(JSON.stringify(body));
        expectClientOrSuccess(res, [202]);
      }),
      { numRuns: 100 },
    );
  });

  it('recover, test and the deliveries list refuse bad input with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ since: awkwardValue }, { requiredKeys: [] }),
        fc.dictionary(fc.constantFrom('status', 'limit', 'cursor', 'x'), fc.string(), { maxKeys: 3 }),
        async (recoverBody, query) => {
          const recovered = await request(api.app).post(`/v1/webhooks/${hook}/recover`).set(api.admin).send(recoverBody);
          expectClientOrSuccess(recovered, [202]);
          const listed = await request(api.app).get(`/v1/webhooks/${hook}/deliveries`).query(query).set(api.admin);
          expectClientOrSuccess(listed, [200]);
          // An object payload (or none) would really be queued and waited for; only refusals are of interest here.
          const payload = recoverBody.since;
          const isObject = payload !== null && typeof payload === 'object' && !Array.isArray(payload);
          if (payload !== undefined && !isObject) {
            const tested = await request(api.app).post(`/v1/webhooks/${hook}/test`).set(api.admin).send({ payload });
            expectClientOrSuccess(tested, []);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
