import { Type, type Static } from '@sinclair/typebox';
import { ConsultationKind, ConsultationPriority } from './consultations';

/** A care navigation rule: new requests that match it are assigned (and optionally prioritised) as they arrive. */
export const NavigationRule = Type.Object(
  {
    matchKind: Type.Optional(ConsultationKind),
    matchFormSlug: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{2,60}$' })),
    assignTo: Type.String({ format: 'uuid' }),
    setPriority: Type.Optional(ConsultationPriority),
  },
  { additionalProperties: false },
);
export type NavigationRule = Static<typeof NavigationRule>;

/** A practice's rules, in the order they are tried. */
export const NavigationRules = Type.Array(NavigationRule, { maxItems: 50 });
export type NavigationRules = Static<typeof NavigationRules>;
