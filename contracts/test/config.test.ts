import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { ConfigError, envName, loadConfig } from '../src/config';

const Schema = Type.Object(
  {
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
    databaseUrl: Type.String({ minLength: 1 }),
    debugSql: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

describe('loadConfig', () => {
  it('derives env names from keys', () => {
    assert.equal(envName('TRIAGE', 'databaseUrl'), 'TRIAGE_DATABASE_URL');
  });

  it('reads, converts and defaults values', () => {
    const config = loadConfig(Schema, 'SVC', {
      SVC_PORT: '8080',
      SVC_DATABASE_URL: 'postgres://x',
      OTHER: 'y',
    });
    assert.deepEqual(config, { port: 8080, databaseUrl: 'postgres://x', debugSql: false });
  });

  it('fails on an unknown key with the prefix, naming it', () => {
    assert.throws(
      () => loadConfig(Schema, 'SVC', { SVC_DATABASE_URL: 'postgres://x', SVC_PROT: '1' }),
      (error: unknown) => error instanceof ConfigError && /SVC_PROT: unknown key/.test(error.message),
    );
  });

  it('fails on a missing required key, naming it', () => {
    assert.throws(
      () => loadConfig(Schema, 'SVC', {}),
      (error: unknown) => error instanceof ConfigError && /SVC_DATABASE_URL: required/.test(error.message),
    );
  });

  it('fails on a value of the wrong type, naming the key', () => {
    assert.throws(
      () => loadConfig(Schema, 'SVC', { SVC_DATABASE_URL: 'postgres://x', SVC_PORT: 'eighty' }),
      (error: unknown) => error instanceof ConfigError && /SVC_PORT:/.test(error.message),
    );
  });
});
