import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { freeTextSubmission, seedConsultation, startTriage } from '@gpc/test-support';

/** A real JPEG: uploads are checked by their bytes (what-was-seen.test.ts tests the refusals). */
const jpeg = (colour: string) =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: colour } })
    .jpeg()
    .toBuffer();

describe('attachments through the real local S3 server', async () => {
  const { app, db, practiceA, practiceB, as, formId } = await startTriage(
    { after },
    { attachments: true, now: () => new Date('2026-07-13T09:00:00Z') },
  );
  const somethingElse = await formId('something-else');

  async function upload(ods: string, bytes: Buffer, contentType = 'image/jpeg'): Promise<string> {
    const grant = await app.inject({
      method: 'POST',
      url: `/practices/${ods}/uploads`,
      payload: { contentType, size: bytes.length },
    });
    assert.equal(grant.statusCode, 201, grant.body);
    const { key, url, headers } = grant.json<{ key: string; url: string; headers: Record<string, string> }>();
    const put = await fetch(url, { method: 'PUT', headers, body: new Uint8Array(bytes) });
    assert.equal(put.status, 200);
    return key;
  }

  const submission = (attachments: { key: string }[]) =>
    freeTextSubmission(somethingElse, 'See photo', { attachments });

  it('takes a photo uploaded straight to S3 with the request, and shows it to the practice’s staff only', async () => {
    const photo = await jpeg('#204080');
    const key = await upload('A81001', photo);
    const sent = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: submission([{ key }]),
    });
    assert.equal(sent.statusCode, 201, sent.body);
    const { rows } = await db.pool.query<{ id: string }>(
      'SELECT consultation_id AS id FROM attachment WHERE s3_key = $1',
      [key],
    );
    const consultationId = rows[0]!.id;

    const listed = await app.inject({
      method: 'GET',
      url: `/consultations/${consultationId}/attachments`,
      headers: as(practiceA, 'reception').headers,
    });
    assert.equal(listed.statusCode, 200);
    const [view] = listed.json<{ url: string; size: number; contentType: string }[]>();
    assert.equal(view?.contentType, 'image/jpeg');
    // the verified copy: the photo re-encoded without its metadata, the same picture
    const download = Buffer.from(await (await fetch(view.url)).arrayBuffer());
    assert.equal(view?.size, download.length);
    const seen = await sharp(download).metadata();
    assert.deepEqual([seen.format, seen.width, seen.height], ['jpeg', 8, 8]);

    const other = await app.inject({
      method: 'GET',
      url: `/consultations/${consultationId}/attachments`,
      headers: as(practiceB, 'reception').headers,
    });
    assert.equal(other.statusCode, 404, 'another practice cannot list or fetch them');
    assert.equal(
      (await app.inject({ method: 'GET', url: `/consultations/${consultationId}/attachments` })).statusCode,
      401,
    );
  });

  it('refuses files that never arrived, another practice’s uploads, and types or sizes not allowed', async () => {
    const missing = `uploads/${practiceA.id}/${randomUUID()}`;
    const notArrived = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: submission([{ key: missing }]),
    });
    assert.equal(notArrived.statusCode, 400);
    assert.match(notArrived.json<{ message: string }>().message, /attach it again/);

    const theirs = await upload('B82002', Buffer.from('practice B file'));
    const borrowed = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: submission([{ key: theirs }]),
    });
    assert.equal(borrowed.statusCode, 400, 'an upload made for one practice cannot join another’s request');

    const exe = await app.inject({
      method: 'POST',
      url: '/practices/A81001/uploads',
      payload: { contentType: 'application/x-msdownload', size: 10 },
    });
    assert.equal(exe.statusCode, 400);
    const huge = await app.inject({
      method: 'POST',
      url: '/practices/A81001/uploads',
      payload: { contentType: 'image/png', size: 50 * 1024 * 1024 },
    });
    assert.equal(huge.statusCode, 400);
    const nothingStored = await db.pool.query('SELECT 1 FROM attachment WHERE s3_key = ANY($1)', [
      [missing, theirs],
    ]);
    assert.equal(nothingStored.rowCount, 0);
  });

  it('lets a patient add a photo to a reply in their thread, and only an upload made for that practice', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    const sent = await app.inject({
      method: 'POST',
      url: `/consultations/${id}/messages`,
      headers: as(practiceA, 'clinician').headers,
      payload: { body: 'Could you send a photo?' },
    });
    const token = new URL(sent.json<{ threadLink: string }>().threadLink).hash.replace('#t=', '');
    const { sessionToken } = (
      await app.inject({
        method: 'POST',
        url: '/threads/unlock',
        payload: { token, birthDate: '1980-02-03' },
      })
    ).json<{ sessionToken: string }>();
    const session = { authorization: `Bearer ${sessionToken}` };
    const photo = new Uint8Array(await jpeg('#a04020'));
    const grant = await app.inject({
      method: 'POST',
      url: '/threads/uploads',
      headers: session,
      payload: { contentType: 'image/jpeg', size: photo.length },
    });
    assert.equal(grant.statusCode, 201, grant.body);
    const { key, url, headers } = grant.json<{ key: string; url: string; headers: Record<string, string> }>();
    assert.equal((await fetch(url, { method: 'PUT', headers, body: photo })).status, 200);

    const theirs = await upload('B82002', Buffer.from('practice B file'));
    const borrowed = await app.inject({
      method: 'POST',
      url: '/threads/messages',
      headers: session,
      payload: { body: 'here', urgent: false, attachments: [{ key: theirs }] },
    });
    assert.equal(borrowed.statusCode, 400);

    const replied = await app.inject({
      method: 'POST',
      url: '/threads/messages',
      headers: session,
      payload: { body: 'Here it is', urgent: false, attachments: [{ key }] },
    });
    assert.equal(replied.statusCode, 201, replied.body);
    const stored = await db.pool.query<{ verified_key: string | null }>(
      'SELECT verified_key FROM attachment WHERE consultation_id = $1 AND s3_key = $2',
      [id, key],
    );
    assert.equal(stored.rowCount, 1);
    assert.match(
      stored.rows[0]?.verified_key ?? '',
      /^verified\//,
      'a reply’s photo is checked and copied too',
    );
  });
});
