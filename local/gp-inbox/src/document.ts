// What the simulated GP system reads from a Send Document message it accepted: the patient's NHS
// number (for its registration check), the document's id and what it replaces, the PDF.
type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  Boolean(value) && typeof value === 'object' && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** Every resource in the message, nested bundles' entries included. */
export function resources(bundle: unknown): Json[] {
  const found: Json[] = [];
  const visit = (resource: unknown) => {
    if (!isObject(resource)) return;
    found.push(resource);
    if (resource.resourceType === 'Bundle')
      for (const entry of list(resource.entry)) visit(isObject(entry) ? entry.resource : undefined);
  };
  visit(bundle);
  return found;
}

export interface DocumentFacts {
  nhsNumber: string | null;
  patientName: string | null;
  birthDate: string | null;
  /** The document Bundle's identifier (what a replacement's `relatesTo` names). */
  documentId: string | null;
  /** The earlier document this one replaces, if it says so. */
  replaces: string | null;
  title: string | null;
  senderOdsCode: string | null;
  pdf: Buffer | null;
}

export function documentFacts(message: unknown): DocumentFacts {
  const all = resources(message);
  const patient = all.find((r) => r.resourceType === 'Patient');
  const nhsNumber = list(patient?.identifier).find((i) => isObject(i) && i.system === NHS_NUMBER_SYSTEM) as
    Json | undefined;
  const name = list(patient?.name)[0] as Json | undefined;
  const document = all.find((r) => r.resourceType === 'Bundle' && r.type === 'document');
  const composition = all.find((r) => r.resourceType === 'Composition');
  const relates = list(composition?.relatesTo).find((r) => isObject(r) && r.code === 'replaces') as
    Json | undefined;
  const target = isObject(relates?.targetIdentifier) ? relates.targetIdentifier.value : undefined;
  const binary = all.find((r) => r.resourceType === 'Binary' && r.contentType === 'application/pdf');
  const header = all.find((r) => r.resourceType === 'MessageHeader');
  const sender = all.find(
    (r) =>
      r.resourceType === 'Organization' &&
      isObject(header?.sender) &&
      typeof header.sender.reference === 'string',
  );
  const ods = list(sender?.identifier).find((i) => isObject(i) && typeof i.value === 'string') as
    Json | undefined;
  return {
    nhsNumber: typeof nhsNumber?.value === 'string' ? nhsNumber.value : null,
    patientName: name ? [list(name.given).join(' '), name.family].filter(Boolean).join(' ') || null : null,
    birthDate: typeof patient?.birthDate === 'string' ? patient.birthDate : null,
    documentId:
      isObject(document?.identifier) && typeof document.identifier.value === 'string'
        ? document.identifier.value
        : null,
    replaces: typeof target === 'string' ? target : null,
    title: typeof composition?.title === 'string' ? composition.title : null,
    senderOdsCode: typeof ods?.value === 'string' ? ods.value : null,
    pdf: typeof binary?.content === 'string' ? Buffer.from(binary.content, 'base64') : null,
  };
}
