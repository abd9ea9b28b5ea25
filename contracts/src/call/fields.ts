import { Type } from '@sinclair/typebox';

// Fields the call's tokens and events share; not exported from contracts, whose other names differ.

/** A participant's name as a person typed it (a patient's name, an interpreter's), shown to the others. */
export const DisplayName = Type.String({ minLength: 1, maxLength: 200 });
