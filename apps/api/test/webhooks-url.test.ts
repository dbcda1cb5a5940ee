import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/** With ALLOW_PRIVATE_TARGETS=false (the production default) a webhook may not aim at the service's own network. */

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi('webhooksurl', { ALLOW_PRIVATE_TARGETS: 'false' });
});

afterAll(async () => {
  await api.close();
});

const create = (url: string) =>
  request(api.app).post('/v1/webhooks').set(api.admin).send({ team_id: 3, url, events: ['*'] });

describe('private targets refused', () => {
  const privateUrls = [
    'http://localhost:3000/hook',
    'http://LOCALHOST/hook',
    'http://api.localhost/hook',
    'http://127.0.0.1/hook',
    'http://127.1/hook',
    'http://2130706433/hook',
    'http://0x7f.0.0.1/hook',
    'http://0.0.0.0/hook',
    'http://10.1.2.3/hook',
    'http://172.16.0.1/hook',
    'https://192.168.1.10/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[fe80::1]/hook',
    'http://[fd00::1]/hook',
  ];

  it.each(privateUrls)('%s is a 400 naming url', async (url) => {
    const res = await create(url);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details).toEqual([{ path: 'url', message: expect.stringContaining('ALLOW_PRIVATE_TARGETS') }]);
  });

  it('nothing was stored', async () => {
    expect(await api.deps.db.webhook.count()).toBe(0);
  });

  it('public hosts are accepted, and a PATCH to a private URL is refused', async () => {
    const ok = await create('https://hooks.example.com/in');
    expect(ok.status).toBe(201);
    expect((await create('http://93.184.215.14:8080/in')).status).toBe(201);

    const patch = await request(api.app).patch(`/v1/webhooks/${ok.body.id}`).set(api.admin).send({ url: 'http://10.0.0.5/' });
    expect(patch.status).toBe(400);
    expect(patch.body.error.details[0].path).toBe('url');
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: ok.body.id } });
    expect(row.url).toBe('https://hooks.example.com/in');

    const other = await request(api.app).patch(`/v1/webhooks/${ok.body.id}`).set(api.admin).send({ timeout: 30 });
    expect(other.status).toBe(200);
  });
});
