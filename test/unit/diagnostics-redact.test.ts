import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isSecretName, REDACTED, redactText, redactValue } from '../../agent/src/diagnostics/redact.js';

test('values under secret-named keys are redacted at any depth; paths to secrets are kept', () => {
  const config = {
    channel: { url: 'https://git.example.com/ops/releases.git', token: 'ghp_channelsecret', tokenFile: '/etc/duck/channel-token' },
    controller: { url: 'https://duck.example.com', enrollToken: 'enroll-secret-1', enrollTokenFile: 'enroll-token' },
    extra: { apiKey: 'k-123456', privateKey: 'PRIVATE', nested: [{ password: 'hunter22' }], credentials: { user: 'u', pass: 'p' } },
    group: 'production',
  };
  const { value, secrets } = redactValue(config);
  assert.is(value.channel.token, REDACTED);
  assert.is(value.channel.tokenFile, '/etc/duck/channel-token');
  assert.is(value.controller.enrollToken, REDACTED);
  assert.is(value.controller.enrollTokenFile, 'enroll-token');
  assert.is(value.extra.apiKey, REDACTED);
  assert.is(value.extra.privateKey, REDACTED);
  assert.is(value.extra.nested[0]!.password, REDACTED);
  assert.equal(value.extra.credentials, { user: REDACTED, pass: REDACTED });
  assert.is(value.group, 'production');
  assert.ok(secrets.includes('ghp_channelsecret') && secrets.includes('enroll-secret-1'));
  assert.is(config.channel.token, 'ghp_channelsecret', 'the input is not changed');
});

test("the overlay's compose env values whose names look secret are redacted, others kept", () => {
  const overlay = { compose: { shop: { env: { PORT: '8081', DB_PASSWORD: 'pw-123456', STRIPE_API_KEY: 'sk_live_x', JWT_SECRET: 'j', SSH_KEY: 'k' } } } };
  const env = redactValue(overlay).value.compose.shop.env;
  assert.equal(env, { PORT: '8081', DB_PASSWORD: REDACTED, STRIPE_API_KEY: REDACTED, JWT_SECRET: REDACTED, SSH_KEY: REDACTED });
});

test('URL userinfo is removed and its password remembered as a secret', () => {
  const { value, secrets } = redactValue({ channel: { url: 'https://deploy:s3cr3t-pass@git.example.com/releases.git' } });
  assert.is(value.channel.url, `https://${REDACTED}@git.example.com/releases.git`);
  assert.ok(secrets.includes('s3cr3t-pass'));
});

test('free text loses known secrets, URL userinfo and secret-looking assignments', () => {
  const log = [
    'connecting with enroll-secret-1 to https://bob:pw@db.example.com:5432/x',
    'DB_PASSWORD=hunter22 PORT=8081',
    '{"apiKey": "abc123", "name": "shop"}',
  ].join('\n');
  const out = redactText(log, ['enroll-secret-1']);
  assert.not.match(out, /enroll-secret-1|hunter22|abc123|bob:pw/);
  assert.match(out, /PORT=8081/);
  assert.match(out, /"name": "shop"/);
});

test('a very short secret is not cut out of free text', () => {
  assert.is(redactText('version 1 ok', ['1']), 'version 1 ok');
});

test('secret names: tokens, passwords, keys; not paths, not ordinary words', () => {
  for (const name of ['token', 'enrollToken', 'DB_PASSWORD', 'passphrase', 'aws_secret_access_key', 'apiKey', 'API-KEY', 'private_key', 'Authorization']) assert.ok(isSecretName(name), name);
  for (const name of ['tokenFile', 'keys', 'group', 'url', 'PORT', 'monkey']) assert.not.ok(isSecretName(name), name);
});

test.run();
