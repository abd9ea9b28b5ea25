import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@gpc/contracts';
import { loadRecordConfig, meshSettings } from '../src/config';

const base = {
  RECORD_DATABASE_URL: 'postgres://127.0.0.1/x',
  RECORD_REDIS_URL: 'redis://127.0.0.1:6379',
  RECORD_S3_BUCKET: 'bucket',
  RECORD_S3_ACCESS_KEY_ID: 'k',
  RECORD_S3_SECRET_ACCESS_KEY: 's',
};
const mailbox = {
  RECORD_MESH_URL: 'https://msg.intspineservices.nhs.uk',
  RECORD_MESH_MAILBOX_ID: 'GPCONSULT01',
  RECORD_MESH_PASSWORD: 'password',
  RECORD_MESH_SHARED_KEY: 'shared',
};
const problemsOf = (env: Record<string, string>) => {
  try {
    loadRecordConfig({ ...base, ...env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.join('\n');
  }
  assert.fail('the configuration was accepted');
};

describe('the record worker’s MESH mailbox settings (RECORD_MESH_*), checked at boot', () => {
  it('are all four or none: none turns Send Document off, all four make the client’s settings', () => {
    assert.equal(meshSettings(loadRecordConfig(base)), undefined);
    const settings = meshSettings(loadRecordConfig({ ...base, ...mailbox }));
    assert.equal(settings?.mailboxId, 'GPCONSULT01');
    assert.equal(settings?.tls, undefined);
    const { RECORD_MESH_PASSWORD: _password, ...noPassword } = mailbox;
    assert.match(problemsOf(noPassword), /RECORD_MESH_PASSWORD: required with/);
  });

  it('refuse a certificate without its key, a file that cannot be read, a malformed mailbox or a typo', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'record-mesh-'));
    const cert = path.join(dir, 'client.crt');
    const key = path.join(dir, 'client.key');
    writeFileSync(cert, '-----BEGIN CERTIFICATE-----\n');
    writeFileSync(key, '-----BEGIN PRIVATE KEY-----\n');
    assert.match(
      problemsOf({ ...mailbox, RECORD_MESH_CLIENT_CERT_PATH: cert }),
      /the client certificate and its key go together/,
    );
    assert.match(
      problemsOf({
        ...mailbox,
        RECORD_MESH_CLIENT_CERT_PATH: cert,
        RECORD_MESH_CLIENT_KEY_PATH: path.join(dir, 'gone.key'),
      }),
      /RECORD_MESH_CLIENT_KEY_PATH: cannot read .*ENOENT/,
    );
    assert.match(problemsOf({ RECORD_MESH_CA_PATH: cert }), /set without a MESH mailbox/);
    assert.match(
      problemsOf({ ...mailbox, RECORD_MESH_MAILBOX_ID: 'not a mailbox' }),
      /RECORD_MESH_MAILBOX_ID/,
    );
    assert.match(problemsOf({ ...mailbox, RECORD_MESH_PASWORD: 'x' }), /RECORD_MESH_PASWORD: unknown key/);
    const tls = meshSettings(
      loadRecordConfig({
        ...base,
        ...mailbox,
        RECORD_MESH_CLIENT_CERT_PATH: cert,
        RECORD_MESH_CLIENT_KEY_PATH: key,
      }),
    )?.tls;
    assert.equal(tls?.cert, '-----BEGIN CERTIFICATE-----\n');
    assert.equal(tls?.key, '-----BEGIN PRIVATE KEY-----\n');
  });
});
