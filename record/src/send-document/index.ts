// GP Connect Send Document (ITK3, FHIR STU3) for online consultation reports: the message, its
// validation, the PDF report it carries, and the ITK3 acknowledgements that come back.
export {
  buildSendDocumentMessage,
  type ReportInput,
  type ReportPatient,
  type SendDocumentInput,
} from './message';
export {
  validateItkMessage,
  assertValidItkMessage,
  prepareItkValidation,
  ItkMessageInvalid,
  type ItkValidation,
  type ItkRefusalCode,
} from './validate';
export { renderConsultationReportPdf, formatNhsNumber } from './pdf';
export {
  buildItkAcknowledgement,
  parseItkAcknowledgement,
  describeItkCode,
  isItkAckCode,
  isPositiveItkCode,
  itkCodeKind,
  ItkAcknowledgementInvalid,
  type ItkAckCode,
  type ItkAckKind,
  type ItkAcknowledgementInput,
  type ParsedItkAcknowledgement,
} from './acknowledgement';
export { ITK_RESPONSE_CODES } from './response-codes';
export type { Stu3Bundle, Stu3Resource, Stu3BundleEntry } from './types';
