import { createHash, randomUUID } from 'node:crypto';

/** A UUID (RFC 4122 layout, version 5 style) derived from a seed and a role: the same inputs, the same id. */
export function derivedUuid(seed: string, role: string): string {
  const hex = createHash('sha256').update(`${seed}\u0000${role}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const newUuid = (): string => randomUUID();

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
