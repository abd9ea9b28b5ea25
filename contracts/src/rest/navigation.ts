import { Type, type Static } from '@sinclair/typebox';

/** A care navigation rule: new requests that match it are assigned (and optionally prioritised) as they arrive. */
export const NavigationRule = Type.Object(
  {
    matchKind: Type.Optional(Type.Union([Type.Literal('medical'), Type.Literal('admin')])),
    matchFormSlug: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{2,60}$' })),
    assignTo: Type.String({ format: 'uuid' }),
    setPriority: Type.Optional(
      Type.Union([Type.Literal('urgent'), Type.Literal('soon'), Type.Literal('routine')]),
    ),
  },
  { additionalProperties: false },
);
export type NavigationRule = Static<typeof NavigationRule>;

/** A practice's rules, in the order they are tried. */
export const NavigationRules = Type.Array(NavigationRule, { maxItems: 50 });
export type NavigationRules = Static<typeof NavigationRules>;
