// Reads a PDF the way a viewer does (pdf.js): each page's text, and how many images each page paints.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getDocument, OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';

// pdf.js reads the standard 14 fonts' metrics from its own copies
const standardFontDataUrl = `${join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts')}/`;

export interface ReadPdf {
  pages: string[];
  text: string;
  images: number;
  title: string | undefined;
}

export async function readPdf(pdf: Buffer): Promise<ReadPdf> {
  const document = await getDocument({
    data: new Uint8Array(pdf),
    isEvalSupported: false,
    disableFontFace: true,
    standardFontDataUrl,
  }).promise;
  try {
    const pages: string[] = [];
    let images = 0;
    for (let number = 1; number <= document.numPages; number += 1) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      pages.push(
        content.items
          .map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : ''))
          .join('')
          .replace(/[ \t]+\n/g, '\n'),
      );
      const operators = await page.getOperatorList();
      images += operators.fnArray.filter((op) => op === OPS.paintImageXObject).length;
    }
    const { info } = await document.getMetadata();
    return { pages, text: pages.join('\n'), images, title: (info as { Title?: string }).Title };
  } finally {
    await document.destroy();
  }
}
