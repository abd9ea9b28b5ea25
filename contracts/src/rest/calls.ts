import { Type, type Static } from '@sinclair/typebox';
import { DisplayName } from '../call/fields';

/**
 * Video calls, made by triage for clinicians and admins: a call for a request (the patient's name
 * comes from the request itself, never from the page), links for guests, and the short host token
 * the member of staff joins (and rejoins) the call with on the call node.
 */

/** `/calls/:callId` path parameters. */
export const CallParams = Type.Object({ callId: Type.String({ format: 'uuid' }) });

export const CreateCallBody = Type.Object(
  { consultationId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
export type CreateCallBody = Static<typeof CreateCallBody>;

export const CreateCallResult = Type.Object({
  callId: Type.String({ format: 'uuid' }),
  patientLink: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  /** The creator's host token, to join the call at once. */
  hostToken: Type.String(),
  /** The call node the call is placed on (its public signalling URL), when calls are placed across nodes. */
  nodeUrl: Type.Optional(Type.String()),
});
export type CreateCallResult = Static<typeof CreateCallResult>;

export const InviteGuestBody = Type.Object({ name: DisplayName }, { additionalProperties: false });
export type InviteGuestBody = Static<typeof InviteGuestBody>;

export const InviteGuestResult = Type.Object({
  link: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type InviteGuestResult = Static<typeof InviteGuestResult>;

/** A host token for the call: the signed-in member of staff, as clinician, for a few minutes. */
export const HostTokenResult = Type.Object({
  token: Type.String(),
  expiresIn: Type.Integer({ minimum: 1 }),
  /** Where the call lives now (placed again if its node stopped): the page joins there. */
  nodeUrl: Type.Optional(Type.String()),
});
export type HostTokenResult = Static<typeof HostTokenResult>;
