import type { AddressInfo } from 'node:net';
import type { Bundle, Composition } from '@medplum/fhirtypes';
import { pino } from 'pino';
import type { FhirServer } from '@gpc/local-fhir-server';
import { CONSULTATION_SYSTEM } from '@gpc/record';

/** The local FHIR R4 server from `local/`, listening on a free port. */
export async function startLocalFhir(): Promise<{ server: FhirServer; base: string }> {
  // loaded here: most test files never need it
  const { createFhirServer, FHIR_BASE_PATH } = await import('@gpc/local-fhir-server');
  const server = await createFhirServer({ logger: pino({ level: 'silent' }) });
  await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    base: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}${FHIR_BASE_PATH}`,
  };
}

/** The Compositions the GP record holds for a consultation (searched by our identifier). */
export async function compositionsFor(base: string, consultationId: string): Promise<Composition[]> {
  const response = await fetch(`${base}/Composition?identifier=${CONSULTATION_SYSTEM}|${consultationId}`);
  const bundle = (await response.json()) as Bundle<Composition>;
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

/** Every Composition in the GP record, however many pages. */
export async function allCompositions(base: string): Promise<Composition[]> {
  const found: Composition[] = [];
  let url: string | undefined = `${base}/Composition?_count=1000`;
  while (url) {
    const bundle = (await (await fetch(url)).json()) as Bundle<Composition>;
    for (const entry of bundle.entry ?? []) if (entry.resource) found.push(entry.resource);
    url = bundle.link?.find((link) => link.relation === 'next')?.url;
  }
  return found;
}
