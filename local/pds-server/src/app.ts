import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import { isValidNhsNumber } from '@gpc/contracts';
import { TokenIssuer, TokenRefused } from './auth';
import { seedPatientList, type SeedPatient } from './seed';

/** Clients use `http://host:port/personal-demographics/FHIR/R4` as the PDS base URL. */
export const PDS_BASE_PATH = '/personal-demographics/FHIR/R4';
/** The OAuth 2.0 token endpoint of the API platform, on the same host. */
export const TOKEN_PATH = '/oauth2/token';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_ORGANIZATION_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

const FHIR_JSON = 'application/fhir+json';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PdsServerOptions {
  /** The application's API key: `iss` and `sub` of its client assertions. */
  apiKey: string;
  /** The application's registered public keys. */
  jwks: JSONWebKeySet;
  patients?: readonly SeedPatient[];
  /**
   * The token URL assertions must name as `aud`; by default this server's own, from the request's
   * Host header (`http://<host>/oauth2/token`).
   */
  tokenUrl?: string;
  tokenLifetimeSeconds?: number;
  now?: () => number;
}

export interface PdsServer {
  /** Not listening yet: the caller picks host and port. */
  readonly server: Server;
  /** Requests to `/Patient` so far (method and URL only), for tests. */
  readonly patientRequests: { method: string; url: string }[];
  close(): Promise<void>;
}

/** What one request is answered with. */
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

/** A FHIR Patient as PDS serves it (the fields we use and a few more). */
export interface PdsPatient {
  resourceType: 'Patient';
  id: string;
  identifier: { system: string; value: string; extension?: unknown[] }[];
  meta: { versionId: string; security: { system: string; code: 'U' | 'R'; display: string }[] };
  name: { id: string; use: 'usual'; period: { start: string }; given: string[]; family: string }[];
  gender: string;
  birthDate: string;
  deceasedDateTime?: string;
  address?: { id: string; use: 'home'; period: { start: string }; line: string[]; postalCode: string }[];
  generalPractitioner?: {
    id: string;
    type: 'Organization';
    identifier: { system: string; value: string; period: { start: string } };
  }[];
}

/**
 * A stand-in for the PDS FHIR R4 API in application-restricted mode, as far as this service uses it:
 * read a patient by NHS number, search with `_exact-match` (a single unique match only), and the
 * signed-JWT token exchange that guards both. Builds the HTTP server without listening.
 */
export function createPdsServer(options: PdsServerOptions): PdsServer {
  const issuer = new TokenIssuer(options);
  const patients = new Map((options.patients ?? seedPatientList).map((p) => [p.nhsNumber, p]));
  const patientRequests: PdsServer['patientRequests'] = [];
  const server = createServer((request, response) => {
    handle(request, { options, issuer, patients, patientRequests }).then(
      (reply) => send(response, request, reply),
      () => send(response, request, outcome(500, 'exception', 'SERVICE_UNAVAILABLE', 'Unexpected error')),
    );
  });
  return {
    server,
    patientRequests,
    async close() {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Context {
  options: PdsServerOptions;
  issuer: TokenIssuer;
  patients: Map<string, SeedPatient>;
  patientRequests: PdsServer['patientRequests'];
}

async function handle(request: IncomingMessage, context: Context): Promise<Reply> {
  const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
  // the API platform's own liveness check, no token needed
  if (url.pathname === `${PDS_BASE_PATH}/_ping`)
    return { status: 200, body: { status: 'pass' }, contentType: 'application/json' };
  if (url.pathname === TOKEN_PATH) {
    if (request.method !== 'POST') return { status: 405, body: { error: 'invalid_request' } };
    return token(request, url, context);
  }
  if (!url.pathname.startsWith(`${PDS_BASE_PATH}/Patient`))
    return outcome(404, 'not-found', 'RESOURCE_NOT_FOUND', 'Resource not found');
  context.patientRequests.push({ method: request.method ?? 'GET', url: url.pathname + url.search });
  if (request.method !== 'GET')
    return outcome(405, 'not-supported', 'METHOD_NOT_ALLOWED', 'Method not allowed');
  if (!context.issuer.isAuthorised(request.headers.authorization))
    return outcome(
      401,
      'forbidden',
      'ACCESS_DENIED',
      'Access Denied - Unauthorised',
      'Access token missing, invalid or expired',
    );
  const requestId = header(request, 'x-request-id');
  if (!requestId)
    return outcome(
      400,
      'required',
      'MISSING_VALUE',
      'Required value is missing',
      'Invalid request with error - X-Request-ID header must be supplied to access this resource',
    );
  if (!UUID.test(requestId))
    return outcome(
      400,
      'value',
      'INVALID_VALUE',
      'Provided value is invalid',
      `Invalid value - '${requestId}' in header 'X-Request-ID'`,
    );
  const rest = url.pathname.slice(`${PDS_BASE_PATH}/Patient`.length);
  const origin = `${url.protocol}//${url.host}`;
  if (rest === '' || rest === '/') return search(url.searchParams, context, origin);
  return read(decodeURIComponent(rest.slice(1)), context);
}

async function token(request: IncomingMessage, url: URL, context: Context): Promise<Reply> {
  const form = new URLSearchParams((await readBody(request)).toString('utf8'));
  const tokenUrl = context.options.tokenUrl ?? `${url.protocol}//${url.host}${TOKEN_PATH}`;
  try {
    return { status: 200, body: await context.issuer.issue(form, tokenUrl), contentType: 'application/json' };
  } catch (error) {
    if (!(error instanceof TokenRefused)) throw error;
    return {
      status: error.status,
      body: { error: error.error, error_description: error.message },
      contentType: 'application/json',
    };
  }
}

/** `GET /Patient/{id}`: 400 for an invalid NHS number, 404 for an unknown one; a superseded record answers with its successor. */
function read(id: string, context: Context): Reply {
  if (!isValidNhsNumber(id) || !/^\d{10}$/.test(id))
    return outcome(400, 'value', 'INVALID_RESOURCE_ID', 'Resource Id is invalid');
  let record = context.patients.get(id);
  if (record?.supersededBy) record = context.patients.get(record.supersededBy);
  if (!record) return outcome(404, 'not-found', 'RESOURCE_NOT_FOUND', 'Resource not found');
  const patient = toFhirPatient(record);
  return { status: 200, body: patient, headers: { etag: `W/"${patient.meta.versionId}"` } };
}

const searchParameters = new Set([
  'family',
  'given',
  'gender',
  'birthdate',
  'death-date',
  'address-postalcode',
  'address-postcode',
  'general-practitioner',
  'email',
  'phone',
  '_exact-match',
  '_fuzzy-match',
  '_history',
  '_max-results',
]);

/**
 * `GET /Patient?…`: application-restricted mode returns a single unique match or nothing (more than
 * one match is an empty result, never a list to choose from).
 */
function search(params: URLSearchParams, context: Context, origin: string): Reply {
  for (const name of params.keys())
    if (!searchParameters.has(name))
      return outcome(
        400,
        'structure',
        'ADDITIONAL_PROPERTIES',
        'Additional properties not allowed',
        `Invalid search parameter - '${name}'`,
      );
  const maxResults = params.get('_max-results');
  if (maxResults !== null && maxResults !== '1')
    return outcome(
      403,
      'value',
      'INVALID_VALUE',
      'Provided value is invalid',
      'Multiple results requested when using the API in application-restricted mode',
    );
  const family = params.get('family');
  const birthdate = params.get('birthdate');
  if (!family || !birthdate)
    return outcome(
      400,
      'value',
      'INVALID_SEARCH_DATA',
      'Search data is invalid',
      'Not enough search parameters were provided to be able to make a search',
    );
  const born =
    /^eq(\d{4}-\d{2}-\d{2})$/.exec(birthdate)?.[1] ??
    (/^\d{4}-\d{2}-\d{2}$/.test(birthdate) ? birthdate : undefined);
  if (!born)
    return outcome(
      400,
      'value',
      'INVALID_VALUE',
      'Provided value is invalid',
      `Invalid value - '${birthdate}' in field 'birthdate'`,
    );
  const exact = params.get('_exact-match') === 'true';
  const given = params.get('given');
  const gender = params.get('gender');
  const postcode = params.get('address-postalcode') ?? params.get('address-postcode');
  const practice = params.get('general-practitioner');
  const matches = [...context.patients.values()].filter((p) => {
    if (p.supersededBy) return false; // the superseding record is the one returned
    if (p.restricted && (postcode || practice)) return false;
    if (p.birthDate !== born) return false;
    if (!nameMatches(p.family, family, exact)) return false;
    if (given && !nameMatches(p.given, given, exact)) return false;
    if (gender && p.gender !== gender) return false;
    if (postcode && !nameMatches(p.postalCode ?? '', postcode, exact)) return false;
    if (practice && p.gpOdsCode !== practice.toUpperCase()) return false;
    return true;
  });
  const unique = matches.length === 1 ? matches : [];
  return {
    status: 200,
    body: {
      resourceType: 'Bundle',
      type: 'searchset',
      timestamp: new Date(context.options.now?.() ?? Date.now()).toISOString(),
      total: unique.length,
      entry: unique.map((p) => {
        const resource = toFhirPatient(p);
        return {
          fullUrl: `${origin}${PDS_BASE_PATH}/Patient/${resource.id}`,
          search: { score: 1 },
          resource,
        };
      }),
    },
  };
}

/** Case and accents aside; `*` at the end is a wildcard, except in an exact-match search. */
function nameMatches(held: string, asked: string, exact: boolean): boolean {
  const a = fold(held);
  const b = fold(asked);
  if (!exact && b.endsWith('*')) return a.startsWith(b.slice(0, -1));
  return a === b;
}

const fold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase();

/** A seed patient as PDS serves it; a restricted one without address, telecom or generalPractitioner. */
export function toFhirPatient(p: SeedPatient): PdsPatient {
  const patient: PdsPatient = {
    resourceType: 'Patient',
    id: p.nhsNumber,
    identifier: [
      {
        system: NHS_NUMBER_SYSTEM,
        value: p.nhsNumber,
        extension: [
          {
            url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
            valueCodeableConcept: {
              coding: [
                {
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
                  version: '1.0.0',
                  code: '01',
                  display: 'Number present and verified',
                },
              ],
            },
          },
        ],
      },
    ],
    meta: {
      versionId: '2',
      security: [
        p.restricted
          ? { system: CONFIDENTIALITY_SYSTEM, code: 'R', display: 'restricted' }
          : { system: CONFIDENTIALITY_SYSTEM, code: 'U', display: 'unrestricted' },
      ],
    },
    name: [{ id: '1', use: 'usual', period: { start: '2020-01-01' }, given: [p.given], family: p.family }],
    gender: p.gender,
    birthDate: p.birthDate,
    ...(p.deceasedDateTime ? { deceasedDateTime: p.deceasedDateTime } : {}),
  };
  if (p.restricted) return patient;
  return {
    ...patient,
    ...(p.postalCode
      ? {
          address: [
            {
              id: '1',
              use: 'home',
              period: { start: '2020-01-01' },
              line: ['1 Test Street'],
              postalCode: p.postalCode,
            },
          ],
        }
      : {}),
    ...(p.gpOdsCode
      ? {
          generalPractitioner: [
            {
              id: '1',
              type: 'Organization',
              identifier: {
                system: ODS_ORGANIZATION_SYSTEM,
                value: p.gpOdsCode,
                period: { start: '2020-01-01' },
              },
            },
          ],
        }
      : {}),
  };
}

/** An OperationOutcome with PDS's error code. */
function outcome(
  status: number,
  code: string,
  spineCode: string,
  display: string,
  diagnostics?: string,
): Reply {
  return {
    status,
    body: {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code,
          details: {
            coding: [
              {
                system: 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode',
                version: '1',
                code: spineCode,
                display,
              },
            ],
          },
          ...(diagnostics ? { diagnostics } : {}),
        },
      ],
    },
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, request: IncomingMessage, reply: Reply): void {
  const requestId = header(request, 'x-request-id');
  const correlationId = header(request, 'x-correlation-id');
  response.writeHead(reply.status, {
    'content-type': `${reply.contentType ?? FHIR_JSON}; charset=utf-8`,
    ...(requestId ? { 'x-request-id': requestId } : {}),
    ...(correlationId ? { 'x-correlation-id': correlationId } : {}),
    ...reply.headers,
  });
  response.end(JSON.stringify(reply.body));
}
