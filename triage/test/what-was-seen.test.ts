// What the clinician saw is what is filed (issue 11, section 2): the server's own question text,
// every answer, form versions that cannot change once answered, a frozen summary version, and
// patients' files checked by their bytes, stripped of their location and copied out of their reach.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { canonicalJson, type SummaryContent } from '@gpc/contracts';
import { freeTextSubmission, startTriage } from '@gpc/test-support';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A form version with a question that takes several answers. */
const symptomsForm = {
  resourceType: 'Questionnaire',
  url: 'https://gp-consult.example/fhir/Questionnaire/symptoms',
  version: '3',
  title: 'Tell us your symptoms',
  status: 'active',
  item: [
    {
      linkId: 'symptoms',
      text: 'Which of these do you have?',
      type: 'choice',
      repeats: true,
      required: true,
      answerOption: [
        { valueCoding: { code: 'fever', display: 'A high temperature' } },
        { valueCoding: { code: 'rash', display: 'A rash' } },
        { valueCoding: { code: 'cough', display: 'A cough' } },
      ],
    },
    { linkId: 'since', text: 'Since when?', type: 'text', required: true, maxLength: 200 },
  ],
};

describe('what the clinician saw is what is filed (real PostgreSQL and S3)', async () => {
  const { app, db, practiceA, as, formId } = await startTriage(
    { after },
    { attachments: true, now: () => new Date('2026-07-13T09:00:00Z') },
  );
  const somethingElse = await formId('something-else');
  const clinician = as(practiceA, 'clinician');
  const { rows: forms } = await db.pool.query<{ id: string }>(
    `INSERT INTO questionnaire (practice_id, slug, kind, resource) VALUES ($1, 'symptoms', 'medical', $2) RETURNING id`,
    [practiceA.id, JSON.stringify(symptomsForm)],
  );
  const symptomsFormId = forms[0]!.id;

  async function submit(payload: object) {
    const sent = await app.inject({ method: 'POST', url: '/practices/A81001/submissions', payload });
    return sent;
  }

  async function submitted(payload: object): Promise<string> {
    const sent = await submit(payload);
    assert.equal(sent.statusCode, 201, sent.body);
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM consultation WHERE reference = $1', [
      sent.json<{ reference: string }>().reference,
    ]);
    return rows[0]!.id;
  }

  async function close(consultationId: string) {
    // the closer reads the thread first (a reply they had not seen would block the close)
    await clinician.inject({ url: `/consultations/${consultationId}/messages?markSeen=true` });
    const closed = await clinician.inject({
      method: 'POST',
      url: `/consultations/${consultationId}/close`,
      payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Reviewed.' },
    });
    assert.equal(closed.statusCode, 200, closed.body);
  }

  const frozenVersions = async (consultationId: string) =>
    (
      await db.pool.query<{ id: string; content: SummaryContent; content_hash: string }>(
        'SELECT id, content, content_hash FROM summary_version WHERE consultation_id = $1',
        [consultationId],
      )
    ).rows;

  async function upload(bytes: Buffer, contentType: string) {
    const grant = await app.inject({
      method: 'POST',
      url: '/practices/A81001/uploads',
      payload: { contentType, size: bytes.length },
    });
    assert.equal(grant.statusCode, 201, grant.body);
    const { key, url, headers } = grant.json<{ key: string; url: string; headers: Record<string, string> }>();
    const put = await fetch(url, { method: 'PUT', headers, body: new Uint8Array(bytes) });
    assert.equal(put.status, 200);
    return { key, url, headers };
  }

  async function staffFiles(consultationId: string) {
    const listed = await app.inject({
      url: `/consultations/${consultationId}/attachments`,
      headers: as(practiceA, 'reception').headers,
    });
    assert.equal(listed.statusCode, 200, listed.body);
    const views = listed.json<{ url: string; contentType: string; size: number }[]>();
    return Promise.all(
      views.map(async (view) => ({
        ...view,
        bytes: Buffer.from(await (await fetch(view.url)).arrayBuffer()),
      })),
    );
  }

  it('a client-sent question text never reaches the dashboard or the frozen version; every answer of a multi-answer question is shown and frozen', async () => {
    const body = freeTextSubmission(symptomsFormId, 'unused');
    const id = await submitted({
      ...body,
      answers: {
        resourceType: 'QuestionnaireResponse',
        status: 'completed',
        item: [
          {
            linkId: 'symptoms',
            text: 'CLIENT-TEXT: Do you feel fine?',
            answer: [
              { valueCoding: { code: 'fever', display: 'CLIENT-TEXT: No' } },
              { valueCoding: { code: 'rash' } },
            ],
          },
          { linkId: 'since', text: 'CLIENT-TEXT: Anything else?', answer: [{ valueString: 'Since Monday' }] },
        ],
      },
    });
    const expected = [
      {
        linkId: 'symptoms',
        question: 'Which of these do you have?',
        answers: ['A high temperature', 'A rash'],
      },
      { linkId: 'since', question: 'Since when?', answers: ['Since Monday'] },
    ];

    const detail = await clinician.inject({ url: `/consultations/${id}` });
    assert.equal(detail.statusCode, 200, detail.body);
    assert.deepEqual(detail.json<{ answers: unknown }>().answers, expected);
    assert.doesNotMatch(detail.body, /CLIENT-TEXT/);

    await close(id);
    const [version, ...others] = await frozenVersions(id);
    assert.equal(others.length, 0, 'one version per close');
    assert.deepEqual(version?.content.answers, expected);
    assert.deepEqual(version?.content.form, {
      id: symptomsFormId,
      title: 'Tell us your symptoms',
      url: 'https://gp-consult.example/fhir/Questionnaire/symptoms',
      version: '3',
    });
    assert.doesNotMatch(JSON.stringify(version?.content), /CLIENT-TEXT/);
    assert.equal(version?.content_hash, sha256(canonicalJson(version?.content)));
  });

  it('a form version cannot be changed once a request has answered it, and a frozen summary version cannot be changed', async () => {
    const changeTitle = (formVersion: string) =>
      db.pool.query(
        `UPDATE questionnaire SET resource = jsonb_set(resource, '{title}', '"Changed"') WHERE id = $1`,
        [formVersion],
      );
    // answered by the request of the test above (and by one made here, whichever runs alone)
    await submitted({
      ...freeTextSubmission(symptomsFormId, 'unused'),
      answers: {
        resourceType: 'QuestionnaireResponse',
        status: 'completed',
        item: [
          { linkId: 'symptoms', answer: [{ valueCoding: { code: 'cough' } }] },
          { linkId: 'since', answer: [{ valueString: 'Yesterday' }] },
        ],
      },
    });
    await assert.rejects(changeTitle(symptomsFormId), /has been answered: it cannot be changed/);
    const unanswered = await formId('fit-note');
    await changeTitle(unanswered); // no request answered it yet: still a draft
    await db.pool.query(`UPDATE questionnaire SET active = false WHERE id = $1`, [symptomsFormId]);
    await db.pool.query(`UPDATE questionnaire SET active = true WHERE id = $1`, [symptomsFormId]);

    const id = await submitted(freeTextSubmission(somethingElse, 'A question about my repeat prescription'));
    await close(id);
    const [version] = await frozenVersions(id);
    await assert.rejects(
      db.pool.query(
        `UPDATE summary_version SET content = jsonb_set(content, '{summary}', '"Changed"') WHERE id = $1`,
        [version!.id],
      ),
      /is frozen: it cannot be changed/,
    );
    await assert.rejects(
      db.pool.query(`UPDATE summary_version SET content_hash = $2 WHERE id = $1`, [
        version!.id,
        '0'.repeat(64),
      ]),
      /is frozen/,
    );
  });

  it('a photo loses its EXIF location before staff see it, and the patient overwriting the upload after sending changes nothing staff see or what is frozen', async () => {
    const photo = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#3060a0' } })
      .jpeg()
      .withExif({
        IFD0: { Make: 'PatientPhone' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '51/1 30/1 2600/100',
          GPSLongitudeRef: 'W',
          GPSLongitude: '0/1 7/1 3900/100',
        },
      })
      .toBuffer();
    const sent = exifReader((await sharp(photo).metadata()).exif!);
    assert.deepEqual(sent.GPSInfo?.GPSLatitude, [51, 30, 26], 'the photo as sent says where it was taken');

    const { key, url, headers } = await upload(photo, 'image/jpeg');
    const id = await submitted(
      freeTextSubmission(somethingElse, 'See the photo', { attachments: [{ key }] }),
    );
    const [seen] = await staffFiles(id);
    const metadata = await sharp(seen!.bytes).metadata();
    assert.equal(metadata.exif, undefined, 'no EXIF at all: no location, no device');
    assert.equal(metadata.format, 'jpeg');
    assert.deepEqual([metadata.width, metadata.height], [40, 20]);
    assert.match(new URL(seen!.url).pathname, /\/verified\//, 'staff read the verified copy');
    const { rows } = await db.pool.query<{ verified_key: string; sha256: string; size_bytes: number }>(
      'SELECT verified_key, sha256, size_bytes FROM attachment WHERE consultation_id = $1',
      [id],
    );
    assert.equal(rows[0]?.sha256, sha256(seen!.bytes));
    assert.equal(rows[0]?.size_bytes, seen!.bytes.length);

    // the upload grant is still valid: the patient (or whoever has their link) writes over the original
    const overwrite = await fetch(url, {
      method: 'PUT',
      headers,
      body: new Uint8Array(Buffer.alloc(photo.length, 0x41)),
    });
    assert.equal(overwrite.status, 200);
    const [again] = await staffFiles(id);
    assert.ok(again!.bytes.equals(seen!.bytes), 'staff still see what was checked');

    await close(id);
    const [version] = await frozenVersions(id);
    assert.deepEqual(
      version?.content.files.map((file) => [file.key, file.sha256, file.contentType, file.size]),
      [[rows[0].verified_key, sha256(seen!.bytes), 'image/jpeg', seen!.bytes.length]],
    );
  });

  it('a file claiming to be a JPEG that is really a PDF or a web page is refused with a clear 400, and nothing is kept', async () => {
    const pdf = Buffer.from(
      '%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n',
    );
    const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
    for (const bytes of [pdf, html]) {
      const { key } = await upload(bytes, 'image/jpeg');
      const refused = await submit(
        freeTextSubmission(somethingElse, 'See the photo', { attachments: [{ key }] }),
      );
      assert.equal(refused.statusCode, 400, refused.body);
      assert.match(refused.json<{ message: string }>().message, /not the kind of file it says it is/);
      const kept = await db.pool.query('SELECT 1 FROM attachment WHERE s3_key = $1', [key]);
      assert.equal(kept.rowCount, 0);
    }
    // the same PDF, declared as what it is, is taken
    const { key } = await upload(pdf, 'application/pdf');
    const id = await submitted(freeTextSubmission(somethingElse, 'My letter', { attachments: [{ key }] }));
    const [file] = await staffFiles(id);
    assert.equal(file?.contentType, 'application/pdf');
    assert.ok(file?.bytes.equals(pdf));
  });
});
