// The ITK3 message for a write-back, made by record/src/send-document: the PDF report of the frozen
// summary version, then the GP Connect Send Document message that carries it, checked before sending.
import { buildSendDocumentMessage, renderConsultationReportPdf, validateItkMessage } from '../send-document';
import type { SendDocumentComposer } from './send-document';

export const itk3Composer: SendDocumentComposer = {
  async compose(filing, context) {
    const report = { ...filing.data, patient: filing.patient };
    const pdf = await renderConsultationReportPdf(report);
    return buildSendDocumentMessage({
      ...report,
      identityConfirmed: filing.identityConfirmed,
      pdf,
      // the practice sends its own patient's report; MESH's sending mailbox is the service's
      senderOdsCode: filing.data.practice.odsCode,
      recipientOdsCode: filing.target.sendDocument.recipientOdsCode,
      senderMailboxId: context.senderMailboxId,
      ...(context.replacesDocumentId ? { replacesDocumentId: context.replacesDocumentId } : {}),
      documentVersion: context.documentVersion,
    });
  },
  validate: (bundle) => {
    const checked = validateItkMessage(bundle);
    return checked.ok ? { ok: true } : { ok: false, problems: checked.problems };
  },
};
