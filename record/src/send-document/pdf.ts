import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';
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
 * DejaVu Sans (the npm package `dejavu-fonts-ttf`; Bitstream Vera licence, DejaVu's changes public
 * domain), embedded and subset by pdfkit: it draws Latin with every diacritic (Ł, ş, ț ...), Greek
 * and Cyrillic, so names are shown as written. The standard PDF fonts would draw WinAnsi only.
 */
const FONT_FILES = (() => {
  const require = createRequire(import.meta.url);
  return {
    regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
    bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
  };
})();
const REGULAR = 'Report';
const BOLD = 'Report-Bold';

let fonts: { regular: fontkit.Font; bold: fontkit.Font } | undefined;
const openFont = (path: string): fontkit.Font => {
  const font = fontkit.create(readFileSync(path));
  if (!('hasGlyphForCodePoint' in font)) throw new Error(`${path} is a font collection, not a font`);
  return font;
};

/**
 * The two fonts, read and parsed once per process and shared by every report. Handing pdfkit the
 * parsed font (pdfkit 0.20's font factory takes a fontkit font as well as a path or bytes) instead
 * of a path spares each report re-reading 1.4 MB and re-decoding the tables and glyphs, which was
 * most of a report's time. Sharing is safe: each document still makes its own subset (pdfkit's
 * EmbeddedFont), and fontkit only caches what it decoded on the font object.
 */
const reportFonts = (): { regular: fontkit.Font; bold: fontkit.Font } =>
  (fonts ??= { regular: openFont(FONT_FILES.regular), bold: openFont(FONT_FILES.bold) });
/**
 * A parsed font where pdfkit's options and `registerFont` take a font: pdfkit does, but @types/pdfkit
 * lists paths (the constructor's `font`: a path only) and bytes, hence the cast.
 */
const fontSource = (font: fontkit.Font): string => font as unknown as string;

/**
 * pdfkit shapes every word with fontkit (GSUB/GPOS) and caches the result per document; most of a
 * report's words (headings, labels, dates, the footer) are the same in every report, so each
 * font's word cache is shared by every report instead. pdfkit treats a cached word as read-only
 * (it copies a position before changing it), and a word's shape is in font units, whatever the
 * size. Emptied past `LAYOUT_WORDS` words, so patients' words cannot grow it without bound.
 */
const LAYOUT_WORDS = 20_000;
const layouts = new Map<fontkit.Font, Record<string, unknown>>();
function shareLayouts(doc: PDFKit.PDFDocument): void {
  // pdfkit's current font (an EmbeddedFont): `font` is the fontkit font, `layoutCache` its words
  const current = (doc as unknown as { _font?: { font?: unknown; layoutCache?: unknown } })._font;
  const font = current?.font as fontkit.Font | undefined;
  // a pdfkit without the per-font cache (or with it turned off) keeps its own behaviour
  if (!current || !font || typeof current.layoutCache !== 'object' || current.layoutCache === null) return;
  let shared = layouts.get(font);
  if (!shared || Object.keys(shared).length > LAYOUT_WORDS) {
    shared = Object.create(null) as Record<string, unknown>;
    layouts.set(font, shared);
  }
  current.layoutCache = shared;
}

/** Whether both fonts draw a code point, remembered per process (a report asks about the same few). */
const drawable = new Map<number, boolean>();
const canDraw = (point: number): boolean => {
  let known = drawable.get(point);
  if (known === undefined) {
    const { regular, bold } = reportFonts();
    known = regular.hasGlyphForCodePoint(point) && bold.hasGlyphForCodePoint(point);
    if (drawable.size < 65_536) drawable.set(point, known); // bounded, whatever text comes in
  }
  return known;
};

/**
 * Text the report's fonts can draw: a character either font lacks becomes '?', so nothing is
 * silently dropped or drawn as an empty box (e.g. CJK scripts, which DejaVu Sans does not cover).
 */
export function pdfText(text: string): string {
  return [
    ...text
      .normalize('NFC')
      .replace(/\r\n?/g, '\n')
      .replace(/\t/g, '    ')
      // eslint-disable-next-line no-control-regex -- control characters go
      .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, ''),
  ]
    .map((character) => {
      const point = character.codePointAt(0)!;
      return point === 10 || canDraw(point) ? character : '?';
    })
    .join('');
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
 * embedded; any other file listed). A4, DejaVu Sans, a footer naming the patient on every page.
 */
export function renderConsultationReportPdf(input: ReportInput): Promise<Buffer> {
  const generatedAt = input.generatedAt ?? new Date();
  const { content } = input.version;
  const patientName = `${input.patient.givenName} ${input.patient.familyName}`.trim();
  const { regular, bold } = reportFonts();
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    font: fontSource(regular),
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
  doc.registerFont(REGULAR, fontSource(regular));
  doc.registerFont(BOLD, fontSource(bold));
  // bold first, as the report first draws (so pdfkit numbers the fonts as it always has)
  shareLayouts(doc.font(BOLD));
  shareLayouts(doc.font(REGULAR));
  const width = doc.page.width - 2 * MARGIN;
  const heading = (text: string): void => {
    if (doc.y > doc.page.height - MARGIN - 80) doc.addPage();
    doc.moveDown(0.8).font(BOLD).fontSize(13).fillColor('#005eb8').text(pdfText(text), { width });
    doc
      .moveTo(MARGIN, doc.y + 2)
      .lineTo(MARGIN + width, doc.y + 2)
      .strokeColor('#d8dde0')
      .stroke();
    doc.moveDown(0.4).fillColor('black');
  };
  const field = (label: string, value: string): void => {
    doc
      .font(BOLD)
      .fontSize(10)
      .text(`${pdfText(label)}: `, { continued: true, width });
    doc.font(REGULAR).text(pdfText(value), { width });
  };
  /** A paragraph, every line of it indented by `indent` (pdfkit's own `indent` moves the first line only). */
  const paragraph = (text: string, options: { indent?: number } = {}): void => {
    const indent = options.indent ?? 0;
    doc
      .font(REGULAR)
      .fontSize(10)
      .text(pdfText(text), MARGIN + indent, doc.y, { width: width - indent });
    doc.x = MARGIN;
  };

  doc.font(BOLD).fontSize(20).fillColor('#005eb8').text('Online consultation report', { width });
  doc.font(REGULAR).fontSize(10).fillColor('#4c6272');
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
    doc.font(BOLD).fontSize(10).text(pdfText(shown.question), { width });
    if (shown.answers.length === 0) paragraph('(no answer)', { indent: 12 });
    for (const answer of shown.answers) paragraph(answer, { indent: 12 });
    doc.moveDown(0.3);
  }

  heading('Messages with the patient');
  if (content.messages.length === 0) paragraph('No messages were exchanged.');
  for (const message of content.messages) {
    doc
      .font(BOLD)
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
        .font(REGULAR)
        .fontSize(10)
        .text(pdfText(`${caption} (${document.contentType}): not shown in this report`), { width });
      return;
    }
    const maxHeight = 320;
    if (doc.y + maxHeight + 30 > doc.page.height - MARGIN) doc.addPage();
    doc.font(BOLD).fontSize(10).text(pdfText(caption), { width });
    try {
      doc.moveDown(0.3);
      // in the document's flow (no y given), so pdfkit moves down by the height it drew at
      doc.x = MARGIN;
      doc.image(document.data, { fit: [width, maxHeight] });
    } catch {
      doc.font(REGULAR).text('This photo could not be shown.', { width });
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
      .font(REGULAR)
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
