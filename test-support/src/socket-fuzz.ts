/**
 * Property-based hostile socket.io traffic for the socket fuzz tests (issue 16): payloads derived
 * from an event's contract schema (near misses of every field, real ids mixed in) or pure garbage,
 * sent in every argument shape a client can produce; what the server receives after socket.io's
 * encoding; and the check that an acknowledgement is a coded refusal.
 */
import { Buffer } from 'node:buffer';
import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { ErrorCodes, type ErrorCode } from '@gpc/contracts';

/** One seed for every fuzz run: a failure replays the same way (fast-check prints its path). */
export const fuzzSeed = 0x16_0016;

/** Keys that would pollute a prototype if code copied them carelessly, and other inherited names. */
export const hostileKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'then',
  '_placeholder',
  '',
] as const;

/** `depth` levels of objects (or arrays) around `leaf`, shown by fast-check as a summary, not in full. */
function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  const summary = `<${asArray ? 'arrays' : 'objects'} nested ${depth} deep>`;
  Object.defineProperty(value, fc.toStringMethod, { value: () => summary, enumerable: false });
  return value;
}

/** An object whose own key is `key` (also `__proto__`, which a literal would take as the prototype). */
function withOwnKey(key: string, value: unknown): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

const hostileKey = fc.oneof(fc.constantFrom(...hostileKeys), fc.string({ maxLength: 12 }));

/** Strings a field should never take: empty, huge, control characters, lone surrogates, lookalikes. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '../../etc/passwd', '${jndi:x}', "' OR 1=1 --", '<script>'),
  fc.constantFrom(101, 2001, 20_000).map((n) => 'x'.repeat(n)),
  fc.constantFrom(...hostileKeys),
);

const hostileNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, Number.MAX_SAFE_INTEGER + 2, 2 ** 53, -1),
  fc.integer(),
);

const binary = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ maxLength: 80 }).map((bytes) => bytes),
  fc.constantFrom(0, 1, 64, 4096).map((n) => new ArrayBuffer(n)),
);

/** Any value a hostile client can put on the wire: wrong types, deep nesting, polluting keys, binary. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, undefined, true, false, {}, []),
    hostileString,
    hostileNumber,
    binary,
    fc
      .tuple(fc.integer({ min: 50, max: 1500 }), fc.boolean())
      .map(([depth, asArray]) => nested(depth, 'deep', asArray)),
    fc.tuple(hostileKey, tie('value')).map(([key, value]) => withOwnKey(key, value)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A tree's nodes, for mutating one of them. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const found = [prefix];
  if (value && typeof value === 'object')
    for (const [key, child] of Object.entries(value)) found.push(...paths(child, [...prefix, key]));
  return found;
}

function replaced(value: unknown, path: (string | number)[], by: unknown): unknown {
  if (path.length === 0) return by;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...(value as unknown[])] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head!] = replaced(copy[head!], rest, by);
  return copy;
}

/** A well-formed sample with one node (or the whole) replaced by a hostile value. */
export function mutated(sample: unknown): fc.Arbitrary<unknown> {
  const all = paths(sample);
  return fc
    .tuple(fc.nat({ max: all.length - 1 }), hostileValue)
    .map(([i, by]) => replaced(sample, all[i]!, by));
}

export interface SchemaFuzzOptions {
  /** Strings worth trying in every string field: real ids of the world under test, read when generated. */
  realStrings?: () => readonly string[];
  /** Well-formed samples of free-form object fields (by property name), to mutate. */
  samples?: Record<string, unknown>;
}

interface SchemaLike {
  [Kind]?: string;
  properties?: Record<string, TSchema>;
  required?: string[];
  additionalProperties?: boolean;
  anyOf?: TSchema[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
}

/**
 * Values for a TypeBox schema: mostly what it allows, sometimes just outside it (lengths one past
 * the bounds, a literal's near miss, a missing or extra property, a polluting key), sometimes
 * anything at all. Derived from the schema, so a changed contract is fuzzed as it now is.
 */
export function nearSchema(
  schema: TSchema,
  options: SchemaFuzzOptions = {},
  name = '',
): fc.Arbitrary<unknown> {
  const s = schema as SchemaLike;
  const valid = ((): fc.Arbitrary<unknown> => {
    switch (s[Kind]) {
      case 'String': {
        const min = s.minLength ?? 0;
        const max = s.maxLength ?? 200;
        const { realStrings } = options;
        return fc.oneof(
          fc.string({ minLength: min, maxLength: Math.min(max, 40) }),
          fc.constantFrom('x'.repeat(max), 'x'.repeat(max + 1), 'x'.repeat(Math.max(0, min - 1))),
          // read when generated: the world under test (and so its ids) may change between runs
          ...(realStrings
            ? [fc.nat().map((i) => realStrings()[i % Math.max(1, realStrings().length)] ?? 'no-id-yet')]
            : []),
        );
      }
      case 'Literal':
        return fc.constantFrom(s.const, String(s.const).toUpperCase(), ` ${String(s.const)}`);
      case 'Union':
        return fc.oneof(...(s.anyOf ?? []).map((option) => nearSchema(option, options, name)));
      case 'Object': {
        const properties = s.properties ?? {};
        if (Object.keys(properties).length === 0 && s.additionalProperties !== false) {
          const sample = options.samples?.[name];
          const free = fc.dictionary(hostileKey, hostileValue, { maxKeys: 70 });
          return sample === undefined ? free : fc.oneof(mutated(sample), free, fc.constant(sample));
        }
        const fields = Object.fromEntries(
          Object.entries(properties).map(([key, value]) => [key, nearSchema(value, options, key)]),
        );
        return fc
          .tuple(
            fc.record(fields),
            Object.keys(fields).length === 0
              ? fc.constant(undefined)
              : fc.option(fc.constantFrom(...Object.keys(fields)), { nil: undefined }),
            fc.option(fc.tuple(hostileKey, hostileValue), { nil: undefined, freq: 4 }),
          )
          .map(([record, dropped, extra]) => {
            const value: Record<string, unknown> = { ...record };
            if (dropped !== undefined) delete value[dropped];
            if (extra) Object.assign(value, withOwnKey(extra[0], extra[1]));
            return value;
          });
      }
      default:
        return hostileValue;
    }
  })();
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: hostileValue });
}

/** How the arguments of one emit are laid out: a client may send any of these. */
export type ArgumentShape =
  | 'payload and ack'
  | 'payload, no ack'
  | 'ack only'
  | 'nothing'
  | 'extra arguments and ack'
  | 'extra arguments, no ack'
  | 'non-function ack';

export const argumentShapes: fc.Arbitrary<ArgumentShape> = fc.constantFrom(
  'payload and ack',
  'payload and ack',
  'payload and ack',
  'payload, no ack',
  'ack only',
  'nothing',
  'extra arguments and ack',
  'extra arguments, no ack',
  'non-function ack',
);

/** The arguments (without the ack) an emit of this shape carries. */
export function argumentsFor(shape: ArgumentShape, payload: unknown, extra: unknown): unknown[] {
  switch (shape) {
    case 'payload and ack':
    case 'payload, no ack':
      return [payload];
    case 'ack only':
    case 'nothing':
      return [];
    case 'extra arguments and ack':
    case 'extra arguments, no ack':
      return [payload, extra];
    case 'non-function ack':
      return [payload, 'ack'];
  }
}

export const withAck = (shape: ArgumentShape) =>
  shape === 'payload and ack' || shape === 'ack only' || shape === 'extra arguments and ack';

const isBinary = (value: unknown) =>
  Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value);

/**
 * What the server's handler receives for these arguments, as socket.io encodes them: JSON (NaN and
 * undefined in arrays become null, undefined properties vanish, -0 becomes 0) with binary parts
 * sent as attachments and given back as Buffers.
 */
export function asReceived(args: unknown[]): unknown[] {
  const attachments: Buffer[] = [];
  const json = JSON.stringify(args, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    if (!isBinary(raw)) return value;
    const view = raw as ArrayBuffer | ArrayBufferView;
    attachments.push(
      view instanceof ArrayBuffer
        ? Buffer.from(view)
        : Buffer.from(view.buffer, view.byteOffset, view.byteLength),
    );
    return { _placeholder: true, num: attachments.length - 1 };
  });
  return JSON.parse(json, (_key, value: unknown) => {
    const placeholder = value as { _placeholder?: unknown; num?: unknown } | null;
    if (attachments.length > 0 && placeholder?._placeholder === true && typeof placeholder.num === 'number')
      return attachments[placeholder.num];
    return value;
  }) as unknown[];
}

/** The encoded size of an emit, near enough to keep payloads under the server's frame limit. */
export function encodedSize(args: unknown[]): number {
  let binaryBytes = 0;
  const json = JSON.stringify(args, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    if (!isBinary(raw)) return value;
    binaryBytes = Math.max(binaryBytes, (raw as ArrayBuffer).byteLength);
    return 0;
  });
  return Math.max(Buffer.byteLength(json), binaryBytes);
}

/** The contract's schema check of one event's payload, as the server makes it. */
export function payloadCheck(schema: TSchema): (payload: unknown) => boolean {
  const checker = TypeCompiler.Compile(schema);
  return (payload) => checker.Check(payload);
}

const knownCodes = new Set<string>(Object.keys(ErrorCodes));

/** Fails unless `ack` is `{ok: false, error: {code, message}}` with one of our codes (one of `codes` if given). */
export function assertCodedRefusal(ack: unknown, what: string, codes?: readonly ErrorCode[]): ErrorCode {
  const refusal = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  const fail = (why: string) => new Error(`${what}: ${why}: ${JSON.stringify(ack)?.slice(0, 300)}`);
  if (!refusal || refusal.ok !== false || !refusal.error) throw fail('not a refusal');
  const { code, message } = refusal.error;
  if (typeof code !== 'string' || !knownCodes.has(code)) throw fail('no known error code');
  if (codes && !codes.includes(code as ErrorCode)) throw fail(`code not one of ${codes.join(', ')}`);
  if (typeof message !== 'string' || message.length === 0) throw fail('no message');
  if (message.length > 500) throw fail('a message too long to show');
  return code as ErrorCode;
}

/** Emits with an ack and resolves with it; rejects if none comes within `timeoutMs`. */
export function emitAsking(
  socket: Socket,
  event: string,
  args: unknown[],
  timeoutMs = 5000,
): Promise<unknown> {
  return socket.timeout(timeoutMs).emitWithAck(event, ...args) as Promise<unknown>;
}

const prototypes = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype };
const ownNames = () =>
  Object.entries(prototypes).flatMap(([name, prototype]) =>
    Object.getOwnPropertyNames(prototype).map((key) => `${name}.prototype.${key}`),
  );

/**
 * Records uncaught exceptions and unhandled rejections in this process (the servers under test run
 * in it) without changing how node handles them, and any property a payload added to a built-in
 * prototype; `faults()` lists them, `stop()` stops listening.
 */
export function watchProcessFaults(): { faults: () => string[]; stop: () => void } {
  const before = new Set(ownNames());
  const polluted = () =>
    ownNames()
      .filter((name) => !before.has(name))
      .map((name) => `polluted: ${name}`);
  const seen: string[] = [];
  const onException = (error: unknown) => seen.push(`uncaught exception: ${String(error)}`);
  const onRejection = (reason: unknown) => seen.push(`unhandled rejection: ${String(reason)}`);
  process.on('uncaughtExceptionMonitor', onException);
  process.on('unhandledRejection', onRejection);
  return {
    faults: () => [...seen, ...polluted()],
    stop: () => {
      process.off('uncaughtExceptionMonitor', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}

/**
 * Malformed socket.io packets (each sent as one engine.io message): broken JSON, reserved and
 * inherited event names, impossible ack ids and attachment counts, unknown namespaces.
 */
export const malformedPackets: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '2',
    '2[',
    '2["',
    '2{}',
    '2[]',
    '2[null]',
    '2[1,2,3]',
    '2["error",{}]',
    '2["__proto__",{}]',
    '2["constructor",{}]',
    '2["disconnecting"]',
    '2["newListener","x"]',
    '299999999999999999999["x",{}]',
    '2-1["x",{}]',
    '51-["x",{"_placeholder":true,"num":7}]',
    '5999999999-["x"]',
    '3["ack for nothing"]',
    '31["ack for nothing"]',
    '61-[{"_placeholder":true,"num":0}]',
    '0/nowhere,',
    '0/,{"token":{}}',
    '1',
    '4"boom"',
    '9',
    '',
  ),
  fc
    .tuple(fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7'), hostileString)
    .map(([t, rest]) => `${t}${rest}`),
  fc.string({ maxLength: 60 }).map((rest) => `2${rest}`),
  hostileValue.map((value) => `2${JSON.stringify(['x', value]) ?? ''}`),
  // deeper than socket.io's client can encode, as a hand-made client sends it
  fc.integer({ min: 2000, max: 25_000 }).map((n) => `21["x",${'['.repeat(n)}1${']'.repeat(n)}]`),
  fc.integer({ min: 2000, max: 10_000 }).map((n) => `21["x",${'{"a":'.repeat(n)}1${'}'.repeat(n)}]`),
);

/**
 * A raw packet of `event` asking for an answer (ack id `id`), whose payload is `payload` with the
 * string `"DEEP"` replaced by `depth` levels of nested arrays: deeper than socket.io's client can
 * encode, as a hand-made client sends it.
 */
export function deepPacket(event: string, payload: unknown, depth: number, id: number): string {
  const deep = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  return `2${id}${JSON.stringify([event, payload]).replace('"DEEP"', deep)}`;
}
