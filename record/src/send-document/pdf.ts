import PDFDocument from 'pdfkit';
import type { SummaryMessage } from '@gpc/contracts';
import type { ReportInput } from './input';

export type { ReportInput } from './input';

const MARGIN = 56;
const ukDateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  dateStyle: 'long',
  timeStyle: 'short',
});
const ukDate = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', dateStyle: 'long' });
const when = (iso: string | Date): string => ukDateTime.format(typeof iso === 'string' ? new Date(iso) : iso);

/**
 * Text the PDF's standard fonts (Helvetica, WinAnsi) can draw: other characters become '?', so
 * nothing is silently dropped or drawn as the wrong glyph. (Embedding a Unicode font would lift this.)
 */
export function pdfText(text: string): string {
  return (
    text
      .normalize('NFC')
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex -- control characters go
      .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
      .replace(
        /[^\n\u0020-\u007E\u00A0-\u00FF\u2018\u2019\u201C\u201D\u2013\u2014\u2022\u2026\u20AC\u2122]/gu,
        '?',
      )
  );
}

/** 943 476 5919: how an NHS number is read out and written. */
export const formatNhsNumber = (value: string): string => {
  const digits = value.replace(/\s+/g, '');
  return /^\d{10}$/.test(digits) ? `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}` : digits;
};

const birthDate = (value: string): string =>
  /^\d{4}-\d{2}-\d{2}$/.test(value) ? ukDate.format(new Date(`${value}T00:00:00Z`)) : value;

/**
 * The online consultation report a GP reads: the practice, the patient, the request, every question
 * and answer as the patient saw them (the frozen form version's words), the messages both ways, the
 * outcome and the summary, who closed it and when, and the photos the patient sent (JPEG and PNG
 * embedded; any other file listed). A4, Helvetica, a footer naming the patient on every page.
 */
export function renderConsultationReportPdf(input: ReportInput): Promise<Buffer> {
  const generatedAt = input.generatedAt ?? new Date();
  const { content } = input.version;
  const patientName = `${input.patient.givenName} ${input.patient.familyName}`.trim();
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    info: {
      Title: pdfText(`Online consultation report: ${patientName}`),
      Author: pdfText(input.practice.name),
      Subject: pdfText(`Request ${content.consultation.reference}`),
      CreationDate: generatedAt,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 2 * MARGIN;
  const heading = (text: string): void => {
    if (doc.y > doc.page.height - MARGIN - 80) doc.addPage();
    doc.moveDown(0.8).font('Helvetica-Bold').fontSize(13).fillColor('#005eb8').text(pdfText(text), { width });
    doc
      .moveTo(MARGIN, doc.y + 2)
      .lineTo(MARGIN + width, doc.y + 2)
      .strokeColor('#d8dde0')
      .stroke();
    doc.moveDown(0.4).fillColor('black');
  };
  const field = (label: string, value: string): void => {
    doc
      .font('Helvetica-Bold')
      .fontSize(10)
      .text(`${pdfText(label)}: `, { continued: true, width });
    doc.font('Helvetica').text(pdfText(value), { width });
  };
  const paragraph = (text: string, options: { indent?: number } = {}): void => {
    doc
      .font('Helvetica')
      .fontSize(10)
      .text(pdfText(text), { width: width - (options.indent ?? 0), indent: options.indent ?? 0 });
  };

  doc.font('Helvetica-Bold').fontSize(20).fillColor('#005eb8').text('Online consultation report', { width });
  doc.font('Helvetica').fontSize(10).fillColor('#4c6272');
  doc.text(pdfText(`${input.practice.name} (ODS code ${input.practice.odsCode})`), { width });
  doc.text(pdfText(`Report made ${when(generatedAt)}`), { width }).fillColor('black');

  heading('Patient');
  field('Name', patientName || 'Not known');
  field('Date of birth', birthDate(input.patient.birthDate));
  field('NHS number', input.nhsNumber ? formatNhsNumber(input.nhsNumber) : 'Not known');

  heading('Request');
  field('Reference', content.consultation.reference);
  field('Kind', content.consultation.kind === 'medical' ? 'Medical' : 'Administrative');
  field('How', content.consultation.mode === 'video' ? 'Video consultation' : 'Online consultation');
  field('Sent', when(content.consultation.createdAt));
  if (content.form?.title) field('Form', content.form.title);

  heading('Questions and answers, as the patient saw them');
  if (content.answers.length === 0) paragraph('The patient answered no questions.');
  for (const shown of content.answers) {
    doc.font('Helvetica-Bold').fontSize(10).text(pdfText(shown.question), { width });
    if (shown.answers.length === 0) paragraph('(no answer)', { indent: 12 });
    for (const answer of shown.answers) paragraph(answer, { indent: 12 });
    doc.moveDown(0.3);
  }

  heading('Messages with the patient');
  if (content.messages.length === 0) paragraph('No messages were exchanged.');
  for (const message of content.messages) {
    doc
      .font('Helvetica-Bold')
      .fontSize(10)
      .text(pdfText(`${messageAuthor(message)}, ${when(message.at)}`), { width });
    paragraph(message.body, { indent: 12 });
    doc.moveDown(0.3);
  }

  heading('Outcome');
  paragraph(`${content.outcome.display} (SNOMED CT ${content.outcome.code})`);
  heading('Summary');
  paragraph(content.summary);
  doc.moveDown(0.5);
  field('Closed by', content.closedBy.name);
  field('Closed', when(content.closedAt));

  photos(doc, input, width, heading);
  footers(doc, patientName, input.nhsNumber);
  doc.end();
  return done;
}

const messageAuthor = (message: SummaryMessage): string =>
  message.author === 'patient' ? 'Patient' : `${message.authorName ?? 'Practice staff'} (practice)`;

function photos(
  doc: PDFKit.PDFDocument,
  input: ReportInput,
  width: number,
  heading: (text: string) => void,
): void {
  if (input.documents.length === 0) return;
  // the heading stays with the first photo
  if (doc.y + 400 > doc.page.height - MARGIN) doc.addPage();
  heading('Sent by the patient');
  const count = input.documents.length;
  input.documents.forEach((document, index) => {
    const caption = `${document.contentType.startsWith('image/') ? 'Photo' : 'File'} ${index + 1} of ${count}, sent ${when(document.createdAt)}`;
    const image = document.contentType === 'image/jpeg' || document.contentType === 'image/png';
    if (!image) {
      doc
        .font('Helvetica')
        .fontSize(10)
        .text(pdfText(`${caption} (${document.contentType}): not shown in this report`), { width });
      return;
    }
    const maxHeight = 320;
    if (doc.y + maxHeight + 30 > doc.page.height - MARGIN) doc.addPage();
    doc.font('Helvetica-Bold').fontSize(10).text(pdfText(caption), { width });
    try {
      doc.moveDown(0.3);
      // in the document's flow (no y given), so pdfkit moves down by the height it drew at
      doc.x = MARGIN;
      doc.image(document.data, { fit: [width, maxHeight] });
    } catch {
      doc.font('Helvetica').text('This photo could not be shown.', { width });
    }
    doc.moveDown(0.5);
  });
}

/** "Online consultation report · Jane Smith · NHS number 943 476 5919 · Page 1 of 3" on every page. */
function footers(doc: PDFKit.PDFDocument, patientName: string, nhsNumber: string | null): void {
  const range = doc.bufferedPageRange();
  for (let index = range.start; index < range.start + range.count; index += 1) {
    doc.switchToPage(index);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const text = pdfText(
      `Online consultation report \u2022 ${patientName} \u2022 NHS number ${nhsNumber ? formatNhsNumber(nhsNumber) : 'not known'} \u2022 Page ${index + 1} of ${range.count}`,
    );
    doc
      .font('Helvetica')
      .fontSize(8)
      .fillColor('#4c6272')
      .text(text, MARGIN, doc.page.height - 36, {
        width: doc.page.width - 2 * MARGIN,
        align: 'center',
        lineBreak: false,
      });
    doc.page.margins.bottom = bottom;
  }
  doc.fillColor('black');
}
