import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { PUBLIC_ADDRESSES, REFUSED_URL_HOSTS, urlHost } from '../../../test/support/address-forms.js';

/** Security rules (v1.1), private targets at create time: every range and form of the contract's table. */

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi('privatev11', { ALLOW_PRIVATE_TARGETS: 'false' });
});

afterAll(async () => {
  await api?.close();
});

const create = (url: string) => request(api.app).post('/v1/webhooks').set(api.admin).send({ team_id: 3, url, events: ['*'] });

describe('create time, ALLOW_PRIVATE_TARGETS=false', () => {
  it.each(REFUSED_URL_HOSTS)('refuses $what ($address) with a 400 naming url', async ({ address }) => {
    const res = await create(`https://${address}:8443/hook`);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'url', message: expect.stringContaining('ALLOW_PRIVATE_TARGETS') }]);
  });

  it('refuses the same forms as a PATCH', async () => {
    const ok = await create('https://hooks.example.com/in');
    expect(ok.status).toBe(201);
    for (const { address } of REFUSED_URL_HOSTS) {
      const res = await request(api.app).patch(`/v1/webhooks/${ok.body.id}`).set(api.admin).send({ url: `http://${address}/` });
      expect([address, res.status]).toEqual([address, 400]);
    }
  });

  it.each(PUBLIC_ADDRESSES)('accepts $what ($address)', async ({ address }) => {
    expect((await create(`https://${urlHost(address)}/hook`)).status).toBe(201);
  });
});
