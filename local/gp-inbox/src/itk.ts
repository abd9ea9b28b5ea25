// The ITK3 side of the simulated GP system, in one place: checking what arrives and building the
// acknowledgements it answers with, both from record/src/send-document (the code the service sends
// with), so the stand-in and the sender agree on ITK3 by construction and on MESH by test.
import {
  buildItkAcknowledgement,
  describeItkCode,
  isItkAckCode,
  validateItkMessage,
  type ItkAckCode,
  type ItkAckKind,
  type Stu3Bundle,
} from '@gpc/record/send-document';

export { describeItkCode, isItkAckCode };
export type { ItkAckCode, Stu3Bundle };

/** The message is one the GP system can take, or the ITK3 code it refuses it with, and why. */
export function checkIncoming(
  bundle: unknown,
): { ok: true } | { ok: false; code: ItkAckCode; problems: string[] } {
  const result = validateItkMessage(bundle);
  return result.ok
    ? { ok: true }
    : { ok: false, code: result.itkCode as ItkAckCode, problems: result.problems };
}

export function acknowledgement(input: {
  original: Stu3Bundle;
  kind: ItkAckKind;
  code: ItkAckCode;
  odsCode: string;
  mailboxId: string;
  diagnostics?: string;
}): Buffer {
  const bundle = buildItkAcknowledgement({
    original: input.original,
    kind: input.kind,
    code: input.code,
    senderOdsCode: input.odsCode,
    senderMailboxId: input.mailboxId,
    diagnostics: input.diagnostics,
  });
  return Buffer.from(JSON.stringify(bundle));
}
