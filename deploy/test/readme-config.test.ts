// The README's "Configuration" table against the configuration schemas themselves: every key of
// every schema a service loads (derived from the TypeBox objects, not a list kept here) is in the
// table under its prefix, the table names no key a schema lacks, and every prefix given to
// `loadConfig` in the sources has its row.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { TObject } from '@sinclair/typebox';
import { envName } from '@gpc/contracts';
// each service's config module itself, not its package's index, which loads the whole service
import { TriageConfigSchema } from '../../triage/src/config';
import { SignallingConfigSchema } from '../../signalling/src/config';
import { RecordConfigSchema } from '../../record/src/config';
import { WebConfigSchema } from '../../web/src/config';
import { LocalSettingsSchema } from '../../scripts/src/settings';
import { FhirServerConfigSchema } from '../../local/fhir-server/src/config';
import { S3ServerConfigSchema } from '../../local/s3-server/src/config';
import { MailCatcherConfigSchema } from '../../local/mail-catcher/src/config';
import { PdsServerConfigSchema } from '../../local/pds-server/src/config';
import { OidcProviderConfigSchema } from '../../local/oidc-provider/src/config';
import { MeshServerConfigSchema } from '../../local/mesh-server/src/config';
import { GpInboxConfigSchema } from '../../local/gp-inbox/src/config';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Each prefix's schema, by the name the sources load it with (`loadConfig(Name, 'PREFIX', ...)`):
 * the test checks that call is there, so a schema replaced under another name is noticed.
 */
const schemas: Record<string, { name: string; schema: TObject }> = {
  GPC: { name: 'LocalSettingsSchema', schema: LocalSettingsSchema },
  TRIAGE: { name: 'TriageConfigSchema', schema: TriageConfigSchema },
  SIGNALLING: { name: 'SignallingConfigSchema', schema: SignallingConfigSchema },
  RECORD: { name: 'RecordConfigSchema', schema: RecordConfigSchema },
  WEB: { name: 'WebConfigSchema', schema: WebConfigSchema },
  FHIR: { name: 'FhirServerConfigSchema', schema: FhirServerConfigSchema },
  S3: { name: 'S3ServerConfigSchema', schema: S3ServerConfigSchema },
  MAIL: { name: 'MailCatcherConfigSchema', schema: MailCatcherConfigSchema },
  PDS: { name: 'PdsServerConfigSchema', schema: PdsServerConfigSchema },
  OIDC: { name: 'OidcProviderConfigSchema', schema: OidcProviderConfigSchema },
  MESH: { name: 'MeshServerConfigSchema', schema: MeshServerConfigSchema },
  GP_INBOX: { name: 'GpInboxConfigSchema', schema: GpInboxConfigSchema },
};

/** Every TypeScript file under a workspace's src/ (triage/src, local/pds-server/src...). */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) files.push(full);
    }
  };
  const skip = new Set(['node_modules', '.git', '.state', 'dist']);
  for (const top of readdirSync(repoRoot, { withFileTypes: true })) {
    if (!top.isDirectory() || skip.has(top.name)) continue;
    const workspaces = top.name === 'local' ? readdirSync(path.join(repoRoot, 'local')) : [''];
    for (const workspace of workspaces) {
      const src = path.join(repoRoot, top.name, workspace, 'src');
      if (existsSync(src)) walk(src);
    }
  }
  return files;
}

/** Each `loadConfig(Schema, 'PREFIX'` in the sources: the prefix, the schema's name, the file. */
function configLoads(): { prefix: string; schema: string; file: string }[] {
  const loads: { prefix: string; schema: string; file: string }[] = [];
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\bloadConfig\(\s*([A-Za-z0-9_]+)\s*,\s*'([A-Z0-9_]+)'/g))
      loads.push({ schema: match[1]!, prefix: match[2]!, file: path.relative(repoRoot, file) });
  }
  return loads;
}

interface Row {
  readBy: string[];
  keys: Set<string>;
}

/** The README's Configuration table: by prefix (without its `_`), the files that read it and its keys. */
function readmeTable(): Map<string, Row> {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Configuration\n');
  assert.ok(start >= 0, 'the README has a Configuration section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, Row>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const [prefixCell = '', readByCell = '', keysCell = ''] = line.split('|').slice(1, -1);
    const prefix = /^`([A-Z0-9_]+)_`$/.exec(prefixCell.trim())?.[1];
    assert.ok(prefix, `a row's prefix is one like \`TRIAGE_\`: ${prefixCell}`);
    assert.ok(!rows.has(prefix), `${prefix}_ has one row`);
    rows.set(prefix, {
      readBy: [...readByCell.matchAll(/`([^`\s]+\.ts)`/g)].map((m) => m[1]!),
      keys: new Set([...keysCell.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!)),
    });
  }
  return rows;
}

describe('README "Configuration", against the configuration schemas', () => {
  const table = readmeTable();
  const loads = configLoads();

  it('has a row for each prefix the sources load a configuration with, and none for a prefix nothing loads', () => {
    const loaded = [...new Set(loads.map((load) => load.prefix))].sort();
    assert.deepEqual([...table.keys()].sort(), loaded, 'the table’s prefixes');
    assert.deepEqual(Object.keys(schemas).sort(), loaded, 'the schemas this test reads');
  });

  it('reads each prefix’s keys from the schema the sources load it with', () => {
    for (const [prefix, { name }] of Object.entries(schemas))
      assert.ok(
        loads.some((load) => load.prefix === prefix && load.schema === name),
        `loadConfig(${name}, '${prefix}') is in the sources`,
      );
  });

  it('lists every key of every schema under its prefix, and no key a schema lacks', () => {
    const problems: string[] = [];
    for (const [prefix, { schema }] of Object.entries(schemas)) {
      const keys = new Set(Object.keys(schema.properties).map((key) => envName(prefix, key)));
      const listed = new Set([...(table.get(prefix)?.keys ?? [])].map((key) => `${prefix}_${key}`));
      for (const key of keys) if (!listed.has(key)) problems.push(`${key}: in the schema, not in the README`);
      for (const key of listed) if (!keys.has(key)) problems.push(`${key}: in the README, not in the schema`);
    }
    assert.deepEqual(problems, []);
  });

  it('names as what reads each prefix files that exist', () => {
    for (const [prefix, row] of table) {
      assert.ok(row.readBy.length > 0, `${prefix}_ names what reads it`);
      for (const file of row.readBy)
        assert.ok(existsSync(path.join(repoRoot, file)), `${prefix}_: ${file} exists`);
    }
  });
});
