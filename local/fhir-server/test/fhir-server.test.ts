import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  Bundle,
  CapabilityStatement,
  Encounter,
  OperationOutcome,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import { pino } from 'pino';
import { ConfigError } from '@gpc/contracts';
import { createFhirServer, FHIR_BASE_PATH, type FhirServer } from '../src/app';
import { loadFhirServerConfig } from '../src/config';

const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
const CONSULTATION = 'https://gp-consult.example/Id/consultation';
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const silent = pino({ level: 'silent' });

interface FhirReply<T extends Resource> {
  status: number;
  headers: Headers;
  resource: T;
}

async function listen(app: FhirServer): Promise<string> {
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}${FHIR_BASE_PATH}`;
}

async function call<T extends Resource = Resource>(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<FhirReply<T>> {
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const response = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/fhir+json', ...init.headers },
    body,
  });
  assert.match(response.headers.get('content-type') ?? '', /^application\/fhir\+json/);
  return { status: response.status, headers: response.headers, resource: (await response.json()) as T };
}

const issueTexts = (outcome: Resource): string =>
  (outcome as OperationOutcome).issue
    .map((issue) => `${issue.details?.text} @ ${issue.expression?.join(',')}`)
    .join('; ');

function nhsPatient(nhsNumber: string): Patient {
  return {
    resourceType: 'Patient',
    identifier: [{ system: NHS_NUMBER, value: nhsNumber }],
    name: [{ family: 'Test', given: ['Pat'] }],
  };
}

/** A Patient and an Encounter about them, each created only if not there already. */
function consultationTransaction(
  nhsNumber: string,
  consultationId: string,
  encounterStatus = 'finished',
): Bundle {
  const patientUrn = `urn:uuid:${crypto.randomUUID()}`;
  const encounter = {
    resourceType: 'Encounter',
    status: encounterStatus,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
    identifier: [{ system: CONSULTATION, value: consultationId }],
    subject: { reference: patientUrn },
  } as Encounter;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: patientUrn,
        resource: nhsPatient(nhsNumber),
        request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${NHS_NUMBER}|${nhsNumber}` },
      },
      {
        fullUrl: `urn:uuid:${crypto.randomUUID()}`,
        resource: encounter,
        request: {
          method: 'POST',
          url: 'Encounter',
          ifNoneExist: `identifier=${CONSULTATION}|${consultationId}`,
        },
      },
    ],
  };
}

void describe('local FHIR server over HTTP', () => {
  let app: FhirServer;
  let base: string;

  before(async () => {
    app = await createFhirServer({ logger: silent });
    base = await listen(app);
  });
  after(() => app.close());

  void it('answers GET metadata with a CapabilityStatement', async () => {
    const { status, resource } = await call<CapabilityStatement>(`${base}/metadata`);
    assert.equal(status, 200);
    assert.equal(resource.resourceType, 'CapabilityStatement');
    assert.equal(resource.fhirVersion, '4.0.1');
    assert.ok(resource.rest?.[0]?.resource?.some((entry) => entry.type === 'Patient'));
  });

  void it('creates a Patient (ignoring a client id, as FHIR requires) and reads it back', async () => {
    const created = await call<Patient>(`${base}/Patient`, {
      body: { ...nhsPatient('9000000009'), id: 'chosen-by-client' },
    });
    assert.equal(created.status, 201);
    const id = created.resource.id;
    assert.ok(id && id !== 'chosen-by-client');
    assert.match(created.headers.get('location') ?? '', new RegExp(`${base}/Patient/${id}/_history/`));

    const read = await call<Patient>(`${base}/Patient/${id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.resource.identifier, [{ system: NHS_NUMBER, value: '9000000009' }]);
    assert.equal(read.headers.get('etag'), `W/"${read.resource.meta?.versionId}"`);

    const missing = await call(`${base}/Patient/no-such-id`);
    assert.equal(missing.status, 404);
    assert.equal(missing.resource.resourceType, 'OperationOutcome');
  });

  void it('finds a Patient by identifier system|value', async () => {
    const { resource: patient } = await call<Patient>(`${base}/Patient`, { body: nhsPatient('9000000017') });
    await call(`${base}/Patient`, { body: nhsPatient('9000000025') });
    const query = encodeURIComponent(`${NHS_NUMBER}|9000000017`);
    const { status, resource: bundle } = await call<Bundle<Patient>>(`${base}/Patient?identifier=${query}`);
    assert.equal(status, 200);
    assert.equal(bundle.type, 'searchset');
    assert.deepEqual(
      bundle.entry?.map((entry) => entry.resource?.id),
      [patient.id],
    );
    assert.equal(bundle.entry?.[0]?.fullUrl, `${base}/Patient/${patient.id}`);
  });

  void it('updates a Patient with PUT, making a new version', async () => {
    const { resource: patient } = await call<Patient>(`${base}/Patient`, { body: nhsPatient('9000000033') });
    const updated = await call<Patient>(`${base}/Patient/${patient.id}`, {
      method: 'PUT',
      body: { ...patient, name: [{ family: 'Renamed' }] },
    });
    assert.equal(updated.status, 200);
    assert.notEqual(updated.resource.meta?.versionId, patient.meta?.versionId);
    const read = await call<Patient>(`${base}/Patient/${patient.id}`);
    assert.equal(read.resource.name?.[0]?.family, 'Renamed');
  });

  void it('honours If-None-Exist on a plain create: 201, then 200 with the same resource', async () => {
    const headers = { 'if-none-exist': `identifier=${NHS_NUMBER}|9000000041` };
    const first = await call<Patient>(`${base}/Patient`, { body: nhsPatient('9000000041'), headers });
    const second = await call<Patient>(`${base}/Patient`, { body: nhsPatient('9000000041'), headers });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(second.resource.id, first.resource.id);
  });

  void it('runs a transaction of conditional creates: 201s the first time, 200s with the same ids the second', async () => {
    const first = await call<Bundle>(base, { body: consultationTransaction('9000000058', 'consultation-1') });
    assert.equal(first.status, 200);
    assert.equal(first.resource.type, 'transaction-response');
    assert.deepEqual(
      first.resource.entry?.map((entry) => entry.response?.status),
      ['201', '201'],
    );
    const [patient, encounter] = (first.resource.entry ?? []).map((entry) => entry.resource);
    assert.equal(patient?.resourceType, 'Patient');
    assert.equal(encounter?.resourceType, 'Encounter');
    // the urn:uuid reference was rewritten to the Patient's real id
    assert.equal(encounter.subject?.reference, `Patient/${patient?.id}`);

    const second = await call<Bundle>(base, {
      body: consultationTransaction('9000000058', 'consultation-1'),
    });
    assert.equal(second.status, 200);
    assert.deepEqual(
      second.resource.entry?.map((entry) => entry.response?.status),
      ['200', '200'],
    );
    assert.deepEqual(
      second.resource.entry?.map((entry) => entry.resource?.id),
      [patient?.id, encounter?.id],
    );

    const query = encodeURIComponent(`${NHS_NUMBER}|9000000058`);
    const { resource: found } = await call<Bundle>(`${base}/Patient?identifier=${query}`);
    assert.equal(found.entry?.length, 1);
    const { resource: encounters } = await call<Bundle>(`${base}/Encounter?subject=Patient/${patient?.id}`);
    assert.deepEqual(
      encounters.entry?.map((entry) => entry.resource?.id),
      [encounter?.id],
    );
  });

  void it('refuses invalid resources with 400 and an OperationOutcome that says what is wrong', async () => {
    const wrongType = await call(`${base}/Patient`, { body: { resourceType: 'Patient', gender: 42 } });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.resource.resourceType, 'OperationOutcome');
    assert.match(issueTexts(wrongType.resource), /expected string.*@ Patient\.gender/);

    const unknownProperty = await call(`${base}/Patient`, {
      body: { resourceType: 'Patient', favouriteColour: 'blue' },
    });
    assert.equal(unknownProperty.status, 400);
    assert.match(issueTexts(unknownProperty.resource), /additional property "favouriteColour"/);

    const badCode = await call(`${base}/Patient`, { body: { resourceType: 'Patient', gender: 'banana' } });
    assert.equal(badCode.status, 400);
    assert.match(
      issueTexts(badCode.resource),
      /"banana" is not in the required value set .*administrative-gender @ Patient\.gender/,
    );

    const { resource: valid } = await call<Patient>(`${base}/Patient`, { body: nhsPatient('9000000066') });
    const badUpdate = await call(`${base}/Patient/${valid.id}`, {
      method: 'PUT',
      body: { ...valid, birthDate: 'last Tuesday' },
    });
    assert.equal(badUpdate.status, 400);
    assert.match(issueTexts(badUpdate.resource), /Patient\.birthDate/);
  });

  void it('refuses a whole transaction with 400 when one entry is invalid, keeping nothing from it', async () => {
    const refused = await call(base, {
      body: consultationTransaction('9000000074', 'consultation-2', 'done'),
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.resource.resourceType, 'OperationOutcome');
    assert.match(
      issueTexts(refused.resource),
      /"done" is not in the required value set .*encounter-status @ Encounter\.status/,
    );

    // the Patient entry was created before the Encounter failed, then rolled back
    const query = encodeURIComponent(`${NHS_NUMBER}|9000000074`);
    const { resource: found } = await call<Bundle>(`${base}/Patient?identifier=${query}`);
    assert.equal(found.entry, undefined);
  });

  void it('answers a batch with a 400 entry for the invalid resource and creates the valid one', async () => {
    const { status, resource } = await call<Bundle>(base, {
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: nhsPatient('9000000082'), request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Patient', gender: 42 }, request: { method: 'POST', url: 'Patient' } },
        ],
      },
    });
    assert.equal(status, 200);
    assert.deepEqual(
      resource.entry?.map((entry) => entry.response?.status),
      ['201', '400'],
    );
    assert.match(issueTexts(resource.entry?.[1]?.response?.outcome as OperationOutcome), /Patient\.gender/);
  });

  void it('answers unparseable JSON and a missing body with 400', async () => {
    const invalid = await call(`${base}/Patient`, { rawBody: '{"resourceType": "Patient",' });
    assert.equal(invalid.status, 400);
    assert.match(issueTexts(invalid.resource), /not valid JSON/);

    const empty = await call(`${base}/Patient`, { method: 'POST' });
    assert.equal(empty.status, 400);
    assert.equal(empty.resource.resourceType, 'OperationOutcome');
  });

  void it('answers unknown resource types and paths outside the base with 404', async () => {
    const unknownType = await call(`${base}/Patinet?name=x`);
    assert.equal(unknownType.status, 404);
    assert.match(issueTexts(unknownType.resource), /unknown resource type Patinet/);

    const outside = await call(`${base.replace(FHIR_BASE_PATH, '')}/Patient`);
    assert.equal(outside.status, 404);
    assert.equal(outside.resource.resourceType, 'OperationOutcome');
  });
});

void describe('request body limit', () => {
  let app: FhirServer;
  let base: string;

  before(async () => {
    app = await createFhirServer({ logger: silent, maxBodyBytes: 4096 });
    base = await listen(app);
  });
  after(() => app.close());

  void it('refuses a body over the limit with 413 and an OperationOutcome', async () => {
    const tooBig = { ...nhsPatient('9000000090'), name: [{ family: 'x'.repeat(100_000) }] };
    const { status, resource } = await call(`${base}/Patient`, { body: tooBig });
    assert.equal(status, 413);
    assert.match(issueTexts(resource), /over 4096 bytes/);

    // and the server is still fine afterwards
    const fine = await call(`${base}/Patient`, { body: nhsPatient('9000000090') });
    assert.equal(fine.status, 201);
  });
});

void describe('data file', () => {
  let directory: string;
  before(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'gpc-fhir-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  void it('keeps resources across a restart', async () => {
    const dataFile = path.join(directory, 'nested', 'resources.json');
    const first = await createFhirServer({ logger: silent, dataFile });
    const firstBase = await listen(first);
    const { resource: patient } = await call<Patient>(`${firstBase}/Patient`, {
      body: nhsPatient('9000000104'),
    });
    // matches the Patient above, so adds only the Encounter
    await call(firstBase, { body: consultationTransaction('9000000104', 'consultation-3') });
    await first.close();

    const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as Bundle;
    assert.equal(saved.type, 'collection');
    assert.deepEqual(saved.entry?.map((entry) => entry.resource?.resourceType).sort(), [
      'Encounter',
      'Patient',
    ]);

    const second = await createFhirServer({ logger: silent, dataFile });
    const secondBase = await listen(second);
    try {
      const read = await call<Patient>(`${secondBase}/Patient/${patient.id}`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.resource, patient); // same id, versionId and lastUpdated
      // conditional creates still match what was loaded
      const again = await call<Bundle>(secondBase, {
        body: consultationTransaction('9000000104', 'consultation-3'),
      });
      assert.deepEqual(
        again.resource.entry?.map((entry) => entry.response?.status),
        ['200', '200'],
      );
    } finally {
      await second.close();
    }
  });

  void it('saves soon after a change, without waiting for shutdown', async () => {
    const dataFile = path.join(directory, 'debounced.json');
    const app = await createFhirServer({ logger: silent, dataFile, saveDelayMs: 20 });
    const base = await listen(app);
    try {
      await call(`${base}/Patient`, { body: nhsPatient('9000000112') });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as Bundle<Patient>;
      assert.equal(saved.entry?.[0]?.resource?.identifier?.[0]?.value, '9000000112');
    } finally {
      await app.close();
    }
  });
});

void describe('configuration', () => {
  void it('defaults to 127.0.0.1:8103 without a data file', () => {
    assert.deepEqual(loadFhirServerConfig({}), { host: '127.0.0.1', port: 8103 });
  });

  void it('reads FHIR_PORT and FHIR_DATA_FILE, and refuses unknown FHIR_ keys', () => {
    assert.deepEqual(loadFhirServerConfig({ FHIR_PORT: '9000', FHIR_DATA_FILE: '/tmp/x.json' }), {
      host: '127.0.0.1',
      port: 9000,
      dataFile: '/tmp/x.json',
    });
    assert.throws(() => loadFhirServerConfig({ FHIR_PROT: '9000' }), ConfigError);
    assert.throws(() => loadFhirServerConfig({ FHIR_PORT: 'eighty' }), ConfigError);
  });
});

void describe('server.ts process', () => {
  /** The environment without any FHIR_ settings the test runner happens to have. */
  function envWith(settings: Record<string, string>): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FHIR_')));
    return { ...env, ...settings };
  }

  function startServer(settings: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/fhir-server/src/server.ts'], {
      cwd: repoRoot,
      env: envWith(settings),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, output: () => ({ stdout, stderr }) };
  }

  async function freePort(): Promise<number> {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }

  void it('exits 1 quickly with a one-line message naming the port when the port is taken', async () => {
    const occupier = createTcpServer();
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
    const { port } = occupier.address() as AddressInfo;
    try {
      const started = Date.now();
      const server = startServer({ FHIR_HOST: '127.0.0.1', FHIR_PORT: String(port) });
      const timeout = setTimeout(() => server.child.kill('SIGKILL'), 20_000);
      const code = await server.exited;
      clearTimeout(timeout);
      const { stderr } = server.output();
      assert.equal(code, 1);
      assert.ok(Date.now() - started < 20_000);
      assert.match(stderr, new RegExp(`port ${port} is already in use`));
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.doesNotMatch(stderr, /\n\s+at /);
    } finally {
      await new Promise((resolve) => occupier.close(resolve));
    }
  });

  void it('serves, and on SIGTERM saves the data file and exits 0', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'gpc-fhir-process-'));
    const dataFile = path.join(directory, 'resources.json');
    const port = await freePort();
    const server = startServer({ FHIR_HOST: '127.0.0.1', FHIR_PORT: String(port), FHIR_DATA_FILE: dataFile });
    try {
      const base = `http://127.0.0.1:${port}${FHIR_BASE_PATH}`;
      for (let attempt = 0; !server.output().stdout.includes('listening'); attempt++) {
        assert.ok(attempt < 200, `server did not start: ${server.output().stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(server.output().stdout.includes(base), 'logs its base URL');
      const { status } = await call(`${base}/Patient`, { body: nhsPatient('9000000120') });
      assert.equal(status, 201);

      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
      const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as Bundle<Patient>;
      assert.equal(saved.entry?.[0]?.resource?.identifier?.[0]?.value, '9000000120');
      // request logs carry no query strings or resource contents
      assert.doesNotMatch(server.output().stdout, /9000000120/);
    } finally {
      server.child.kill('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
