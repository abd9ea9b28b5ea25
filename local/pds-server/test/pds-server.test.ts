import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { importPKCS8, SignJWT } from 'jose';
import { CLIENT_ASSERTION_TYPE } from '../src/auth';
import { ODS_ORGANIZATION_SYSTEM, type PdsPatient } from '../src/app';
import { seedPatients, unknownNhsNumber } from '../src/seed';
import {
  generatePdsSigningKey,
  startLocalPds,
  type PdsSigningKey,
  type RunningLocalPds,
} from '../src/testing';

interface Claims {
  iss?: string;
  sub?: string;
  aud?: string;
  jti?: string;
  expiresInS?: number;
  kid?: string;
}

async function assertion(pds: RunningLocalPds, key: PdsSigningKey, claims: Claims = {}): Promise<string> {
  const privateKey = await importPKCS8(key.privateKeyPem, 'RS512');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS512', typ: 'JWT', kid: claims.kid ?? key.kid })
    .setIssuer(claims.iss ?? pds.apiKey)
    .setSubject(claims.sub ?? pds.apiKey)
    .setAudience(claims.aud ?? pds.tokenUrl)
    .setJti(claims.jti ?? randomUUID())
    .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.expiresInS ?? 240))
    .sign(privateKey);
}

async function requestToken(pds: RunningLocalPds, clientAssertion: string) {
  const response = await fetch(pds.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: clientAssertion,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

async function get(
  pds: RunningLocalPds,
  path: string,
  token: string | undefined,
  requestId: string | null = randomUUID(),
) {
  const response = await fetch(`${pds.baseUrl}${path}`, {
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(requestId ? { 'x-request-id': requestId } : {}),
    },
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const spineCode = (body: Record<string, unknown>) =>
  (body as { issue: { details: { coding: { code: string }[] } }[] }).issue[0]!.details.coding[0]!.code;

void describe('local PDS stand-in', () => {
  let pds: RunningLocalPds;
  let token: string;

  before(async () => {
    pds = await startLocalPds();
    const issued = await requestToken(pds, await assertion(pds, pds.key));
    assert.equal(issued.status, 200);
    token = issued.body.access_token!;
  });
  after(() => pds.close());

  void it('gives a bearer token for a signed client assertion, shaped as the NHS API platform does', async () => {
    const issued = await requestToken(pds, await assertion(pds, pds.key));
    assert.equal(issued.status, 200);
    assert.equal(issued.body.token_type, 'Bearer');
    assert.equal(issued.body.expires_in, '599');
    assert.match(issued.body.issued_at!, /^\d{13}$/);
    assert.ok(issued.body.access_token);
  });

  void it('refuses a patient read without a token, or with one it never gave', async () => {
    const without = await get(pds, `/Patient/${seedPatients.janeSmith.nhsNumber}`, undefined);
    assert.equal(without.status, 401);
    assert.equal(spineCode(without.body), 'ACCESS_DENIED');
    const made = await get(pds, `/Patient/${seedPatients.janeSmith.nhsNumber}`, 'made-up-token');
    assert.equal(made.status, 401);
  });

  void it('refuses an assertion signed by another key, even one naming the registered kid', async () => {
    const other = await generatePdsSigningKey({ fast: true });
    const refused = await requestToken(pds, await assertion(pds, other, { kid: pds.key.kid }));
    assert.equal(refused.status, 401);
    assert.equal(refused.body.access_token, undefined);
    const unknownKid = await requestToken(pds, await assertion(pds, other));
    assert.equal(unknownKid.status, 401);
  });

  void it('refuses a replayed jti', async () => {
    const jti = randomUUID();
    assert.equal((await requestToken(pds, await assertion(pds, pds.key, { jti }))).status, 200);
    const replayed = await requestToken(pds, await assertion(pds, pds.key, { jti }));
    assert.equal(replayed.status, 400);
    assert.match(replayed.body.error_description!, /jti must be unique/);
  });

  void it('refuses an expired assertion, one expiring more than five minutes ahead, and a wrong iss or aud', async () => {
    const expired = await requestToken(pds, await assertion(pds, pds.key, { expiresInS: -30 }));
    assert.equal(expired.status, 400);
    assert.match(expired.body.error_description!, /exp/);
    const tooLong = await requestToken(pds, await assertion(pds, pds.key, { expiresInS: 600 }));
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.error_description!, /5 minutes/);
    assert.equal(
      (await requestToken(pds, await assertion(pds, pds.key, { iss: 'another-app' }))).status,
      401,
    );
    assert.equal(
      (
        await requestToken(
          pds,
          await assertion(pds, pds.key, { aud: 'https://elsewhere.example/oauth2/token' }),
        )
      ).status,
      401,
    );
  });

  void it('requires X-Request-ID as a UUID', async () => {
    const missing = await get(pds, `/Patient/${seedPatients.janeSmith.nhsNumber}`, token, null);
    assert.equal(missing.status, 400);
    assert.equal(spineCode(missing.body), 'MISSING_VALUE');
    const invalid = await get(pds, `/Patient/${seedPatients.janeSmith.nhsNumber}`, token, 'not-a-uuid');
    assert.equal(invalid.status, 400);
    assert.equal(spineCode(invalid.body), 'INVALID_VALUE');
  });

  void it('reads a patient with versionId, ETag and the registered practice as an ODS code', async () => {
    const requestId = randomUUID();
    const read = await get(pds, `/Patient/${seedPatients.janeSmith.nhsNumber}`, token, requestId);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('x-request-id'), requestId);
    assert.equal(read.headers.get('etag'), 'W/"2"');
    const patient = read.body as unknown as PdsPatient;
    assert.equal(patient.id, '9000000009');
    assert.equal(patient.meta.versionId, '2');
    assert.equal(patient.meta.security[0]!.code, 'U');
    assert.equal(patient.birthDate, '1985-07-14');
    assert.equal(patient.name[0]!.family, 'Smith');
    assert.deepEqual(patient.generalPractitioner?.[0]?.identifier.system, ODS_ORGANIZATION_SYSTEM);
    assert.equal(patient.generalPractitioner?.[0]?.identifier.value, 'A81001');
  });

  void it('answers 400 for an invalid NHS number and 404 for one it has no record of', async () => {
    const invalid = await get(pds, '/Patient/9000000000', token);
    assert.equal(invalid.status, 400);
    assert.equal(spineCode(invalid.body), 'INVALID_RESOURCE_ID');
    const unknown = await get(pds, `/Patient/${unknownNhsNumber}`, token);
    assert.equal(unknown.status, 404);
    assert.equal(spineCode(unknown.body), 'RESOURCE_NOT_FOUND');
  });

  void it('serves a restricted record flagged R, without address, telecom or generalPractitioner', async () => {
    const read = await get(pds, `/Patient/${seedPatients.restricted.nhsNumber}`, token);
    const patient = read.body as unknown as PdsPatient & { telecom?: unknown };
    assert.equal(patient.meta.security[0]!.code, 'R');
    assert.equal(patient.address, undefined);
    assert.equal(patient.telecom, undefined);
    assert.equal(patient.generalPractitioner, undefined);
  });

  void it('answers a read of a superseded number with the superseding record', async () => {
    const read = await get(pds, `/Patient/${seedPatients.superseded.nhsNumber}`, token);
    assert.equal(read.status, 200);
    assert.equal((read.body as unknown as PdsPatient).id, seedPatients.superseding.nhsNumber);
  });

  void it('finds a single unique exact match as a searchset with total and score', async () => {
    const found = await get(
      pds,
      '/Patient?family=MORGAN&given=alex&birthdate=eq1975-05-20&_exact-match=true',
      token,
    );
    assert.equal(found.status, 200);
    const bundle = found.body as {
      type: string;
      total: number;
      entry: { fullUrl: string; search: { score: number }; resource: PdsPatient }[];
    };
    assert.equal(bundle.type, 'searchset');
    assert.equal(bundle.total, 1);
    assert.equal(bundle.entry[0]!.search.score, 1);
    assert.equal(bundle.entry[0]!.resource.id, seedPatients.alexMorgan.nhsNumber);
    assert.ok(bundle.entry[0]!.fullUrl.endsWith(`/Patient/${seedPatients.alexMorgan.nhsNumber}`));
  });

  void it('returns no match at all when more than one patient fits (application-restricted)', async () => {
    const both = await get(
      pds,
      '/Patient?family=Smith&given=Jane&birthdate=eq1985-07-14&_exact-match=true',
      token,
    );
    assert.equal(both.status, 200);
    assert.equal((both.body as { total: number }).total, 0);
    assert.deepEqual((both.body as { entry: unknown[] }).entry, []);
    const many = await get(pds, '/Patient?family=Smith&birthdate=eq1985-07-14&_max-results=10', token);
    assert.equal(many.status, 403);
  });

  void it('refuses a search without family and date of birth, or with an unknown parameter', async () => {
    assert.equal((await get(pds, '/Patient?given=Jane', token)).status, 400);
    assert.equal((await get(pds, '/Patient?family=Smith&birthdate=eq1985-07-14&nhs=1', token)).status, 400);
    assert.equal((await get(pds, '/Patient?family=Smith&birthdate=14/07/1985', token)).status, 400);
  });
});
