import {
  Type,
  type SchemaOptions,
  type TLiteral,
  type TNull,
  type TSchema,
  type TUnion,
} from '@sinclair/typebox';

type Literals<Words extends readonly string[]> = { -readonly [K in keyof Words]: TLiteral<Words[K]> };

/** One of a fixed set of words (`OneOf(['urgent', 'soon', 'routine'])`): a union of literals, typed as such. */
export function OneOf<const Words extends readonly [string, ...string[]]>(
  words: Words,
  options?: SchemaOptions,
): TUnion<Literals<Words>> {
  return Type.Union(
    words.map((word) => Type.Literal(word)),
    options,
  ) as unknown as TUnion<Literals<Words>>;
}

/** A value, or null where there is none yet (`lastError: Nullable(Type.String())`). */
export function Nullable<T extends TSchema>(schema: T): TUnion<[T, TNull]> {
  return Type.Union([schema, Type.Null()]);
}
