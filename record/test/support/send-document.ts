// A closed online consultation as a write-back loads it, for the Send Document tests: the frozen
// summary version, two photos (a real JPEG and PNG, made with sharp), the practice and the patient.
import sharp from 'sharp';
import { summaryFormat, type SummaryContent } from '@gpc/contracts';
import type { SendDocumentInput } from '../../src/send-document';

export const content: SummaryContent = {
  format: summaryFormat,
  consultation: {
    id: '0b6e4c1a-5d8f-4f3e-9a71-2c4d6e8f0a1b',
    reference: 'GPC-ABCD2345',
    kind: 'medical',
    mode: 'online',
    createdAt: '2026-11-20T09:15:00.000Z',
  },
  form: {
    id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
    title: 'Ask about a medical problem',
    url: 'https://gp-consult.example/fhir/Questionnaire/medical',
    version: '3',
  },
  answers: [
    { linkId: 'chest-pain', question: 'Do you have chest pain?', answers: ['No'] },
    { linkId: 'problem', question: 'What is the problem?', answers: ['A dry cough for three weeks'] },
    { linkId: 'symptoms', question: 'Which of these do you have?', answers: ['Fever', 'Rash on both arms'] },
  ],
  messages: [
    {
      id: 'm1',
      author: 'staff',
      authorName: 'Dr Asha Patel',
      body: 'Is the cough dry or productive?',
      at: '2026-11-20T10:00:00.000Z',
    },
    {
      id: 'm2',
      author: 'patient',
      authorName: null,
      body: 'Dry.\nWorse at night.',
      at: '2026-11-20T10:30:00.000Z',
    },
  ],
  files: [],
  outcome: { code: '448337001', display: 'Telemedicine consultation with patient' },
  summary: 'Viral cough likely. Safety-netting advice given: call 111 if breathless.',
  closedBy: { id: '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f', name: 'Dr Asha Patel' },
  closedAt: '2026-11-20T11:00:00.000Z',
};

export async function photos(): Promise<SendDocumentInput['documents']> {
  const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#c0392b' } })
    .jpeg()
    .toBuffer();
  const png = await sharp({ create: { width: 300, height: 400, channels: 3, background: '#2e86c1' } })
    .png()
    .toBuffer();
  return [
    { id: 'f1', contentType: 'image/jpeg', data: jpeg, createdAt: new Date('2026-11-20T09:14:00.000Z') },
    { id: 'f2', contentType: 'image/png', data: png, createdAt: new Date('2026-11-20T09:14:30.000Z') },
  ];
}

/** A minimal PDF's bytes (the message tests need a PDF, not this report). */
export const tinyPdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

export const messageId = '6f1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b';
export const documentId = '7a2e3d4c-5b6a-4798-8b1c-2d3e4f5a6b7c';

export function sendDocumentInput(changes: Partial<SendDocumentInput> = {}): SendDocumentInput {
  return {
    practice: { odsCode: 'A81001', name: 'Riverside Surgery' },
    version: { id: '7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f', contentHash: 'a'.repeat(64), content },
    documents: [],
    nhsNumber: '9434765919',
    patient: { givenName: 'Jane', familyName: 'Smith', birthDate: '1985-07-14' },
    identityConfirmed: true,
    pdf: tinyPdf,
    senderOdsCode: 'A81001',
    recipientOdsCode: 'A81001',
    senderMailboxId: 'A81001OT001',
    messageId,
    documentId,
    now: new Date('2026-11-20T11:05:00.000Z'),
    ...changes,
  };
}
