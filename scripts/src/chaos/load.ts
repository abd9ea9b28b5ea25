/**
 * The users of the chaos run, all through the service's own front doors: patients sending requests
 * on the public form (a steady stream), a clinician working the queue (confirm the traced patient,
 * message them, which emails them a link, and close with a summary, which owes a write-back), and
 * clinicians starting video calls and joining them on the call node (socket.io, a send transport on
 * a mediasoup router). Every answer goes into the tally.
 */
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { seedPatients } from '@gpc/local-pds-server/seed';
import { medicalAnswers } from '@gpc/test-support';
import { outcomeOf, type Tally } from './tally';
import type { World } from './world';

/** Patients the local PDS knows, registered at the development practice, whose trace verifies. */
const patients = (
  ['patExample', 'janeSmith', 'samTaylor', 'alexMorgan', 'robinHughes', 'zoeBronte', 'robinSample'] as const
).map((name) => seedPatients[name]);
/** Registered at A81002 (the practice filing by MESH) in PDS and in its simulated GP system: filed (30001). */
const meshPatients = [seedPatients.ashaKhan];

type Patient = Pick<
  (typeof seedPatients)[keyof typeof seedPatients],
  'nhsNumber' | 'given' | 'family' | 'birthDate'
>;

/**
 * One practice the load works: its patients send requests (each loop one after another, `loops`
 * of them), its clinician works its queue. The FHIR practice also has calls started for its requests.
 */
interface Desk {
  odsCode: string;
  staff: { clinician: string; admin: string };
  patients: readonly Patient[];
  loops: number;
  gapMs: number;
  /** Where its staff sign in from (each address has its own sign-in limit). */
  signInFrom: string;
  formId?: string;
}

export interface LoadState {
  /** Submission references the service acknowledged (200/201 with a reference). */
  acknowledged: Set<string>;
  /** Consultation ids whose close the service acknowledged. */
  closed: Set<string>;
  /** Consultation ids whose message to the patient the service acknowledged with a notification. */
  messaged: Set<string>;
}

/** A request as a patient's form sends it, from the patient's own address. */
interface Submission {
  body: Record<string, unknown>;
  forwardedFor: string;
}

/** The clinician works the queue; the admin starts the calls (each has a rate limit of their own). */
type Role = 'clinician' | 'admin';

const timeout = () => AbortSignal.timeout(5000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Load {
  readonly state: LoadState = { acknowledged: new Set(), closed: new Set(), messaged: new Set() };
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly tokens = new Map<string, { value: string; until: number }>();
  private readonly lastRequest = new Map<string, number>();
  private submitted = 0;
  private readonly desks: Desk[];
  /** Requests the clinician has seen in the queue, oldest first: what calls are started for. */
  private readonly known: string[] = [];
  private readonly handled = new Set<string>();

  constructor(
    private readonly world: World,
    private readonly tally: Tally,
    private readonly rates: { submissionGapMs: number; meshSubmissionGapMs: number },
  ) {
    this.desks = [
      {
        odsCode: world.staff.odsCode,
        staff: world.staff,
        patients,
        loops: 2,
        gapMs: rates.submissionGapMs,
        signInFrom: '192.0.2.1',
      },
      {
        odsCode: world.meshStaff.odsCode,
        staff: world.meshStaff,
        patients: meshPatients,
        loops: 1,
        gapMs: rates.meshSubmissionGapMs,
        signInFrom: '192.0.2.2',
      },
    ];
  }

  private get triage(): string {
    return `http://127.0.0.1:${this.world.settings.triagePort}`;
  }

  start(): void {
    for (const desk of this.desks) {
      for (let i = 0; i < desk.loops; i++) this.loops.push(this.submissions(desk));
      this.loops.push(this.clinician(desk));
    }
    this.loops.push(this.readiness());
    if (this.world.processes.has('signalling')) this.loops.push(this.calls());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** One HTTP exchange, tallied under `kind`; the parsed body when it succeeded. */
  private async call<T>(kind: string, url: string, init: RequestInit = {}): Promise<T | undefined> {
    const response = await fetch(url, { ...init, signal: timeout() }).catch((error: Error) => error);
    const outcome = await outcomeOf(response);
    this.tally.record(kind, outcome);
    if (outcome !== 'ok' || response instanceof Error) return undefined;
    return (await response.json().catch(() => ({}))) as T;
  }

  private async post<T>(
    kind: string,
    route: string,
    body: unknown,
    as: Role | { forwardedFor: string },
    desk: Desk = this.desks[0]!,
  ): Promise<T | undefined> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (typeof as === 'string') {
      await this.pace(desk, as);
      const token = await this.accessToken(desk, as);
      if (!token) return undefined;
      headers.authorization = `Bearer ${token}`;
    } else {
      headers['x-forwarded-for'] = as.forwardedFor;
    }
    return this.call<T>(kind, `${this.triage}${route}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
  }

  private async get<T>(kind: string, route: string, desk: Desk): Promise<T | undefined> {
    await this.pace(desk, 'clinician');
    const token = await this.accessToken(desk, 'clinician');
    if (!token) return undefined;
    return this.call<T>(kind, `${this.triage}${route}`, { headers: { authorization: `Bearer ${token}` } });
  }

  /** A member of staff's requests at most one each 250 ms: within their own limit of 300 a minute. */
  private async pace(desk: Desk, role: Role): Promise<void> {
    const who = `${desk.odsCode} ${role}`;
    const wait = (this.lastRequest.get(who) ?? 0) + 250 - Date.now();
    if (wait > 0) await sleep(wait);
    this.lastRequest.set(who, Date.now());
  }

  private async accessToken(desk: Desk, role: Role): Promise<string | undefined> {
    const who = `${desk.odsCode} ${role}`;
    const held = this.tokens.get(who);
    if (held && held.until > Date.now()) return held.value;
    const session = await this.post<{ accessToken: string; expiresIn: number }>(
      'staff sign-ins',
      '/auth/login',
      { odsCode: desk.odsCode, email: desk.staff[role], password: this.world.staff.password },
      { forwardedFor: desk.signInFrom },
    );
    if (!session?.accessToken) return undefined;
    this.tokens.set(who, {
      value: session.accessToken,
      until: Date.now() + (session.expiresIn - 30) * 1000,
    });
    return session.accessToken;
  }

  private async medicalForm(desk: Desk): Promise<string | undefined> {
    if (desk.formId) return desk.formId;
    const practice = await this.call<{ forms: { id: string; slug: string }[] }>(
      'form loads',
      `${this.triage}/practices/${desk.odsCode}`,
    );
    desk.formId = practice?.forms.find((form) => form.slug === 'medical')?.id;
    return desk.formId;
  }

  /**
   * Patients sending requests, one after another. A request the service did not acknowledge is sent
   * again by its patient 5 s later with the same idempotency key, as the form does when they press
   * Send again (their address's limit is 20 a minute); meanwhile other patients keep coming.
   */
  private async submissions(desk: Desk): Promise<void> {
    const retries: { submission: Submission; due: number }[] = [];
    while (this.running) {
      const due = retries[0] && retries[0].due <= Date.now() ? retries.shift()?.submission : undefined;
      const submission = due ?? (await this.newSubmission(desk));
      if (submission) {
        const receipt = await this.post<{ reference: string }>(
          'submissions',
          `/practices/${desk.odsCode}/submissions`,
          submission.body,
          { forwardedFor: submission.forwardedFor },
        );
        if (receipt?.reference) this.state.acknowledged.add(receipt.reference);
        else retries.push({ submission, due: Date.now() + 5000 });
      }
      await sleep(desk.gapMs);
    }
  }

  private async newSubmission(desk: Desk): Promise<Submission | undefined> {
    const formId = await this.medicalForm(desk);
    if (!formId) return undefined;
    const n = ++this.submitted;
    const patient = desk.patients[n % desk.patients.length]!;
    // each patient from an address of their own, as through a load balancer
    const forwardedFor = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    const body = {
      idempotencyKey: randomUUID(),
      formId,
      patient: {
        givenName: patient.given,
        familyName: patient.family,
        birthDate: patient.birthDate,
        nhsNumber: patient.nhsNumber,
        email: `chaos-${n}@example.org`,
      },
      submittedBy: { type: 'patient' },
      preferredContact: 'email',
      answers: medicalAnswers({}, `Chaos run request ${n}`),
    };
    return { body, forwardedFor };
  }

  /** The clinician: confirm the traced patient, message them, close with a summary; one request after another. */
  private async clinician(desk: Desk): Promise<void> {
    while (this.running) {
      // oldest first: requests a close did not finish (already messaged), then new ones
      const waiting = await this.get<{ id: string }[]>(
        'queue reads',
        '/consultations?status=awaiting_patient&limit=20',
        desk,
      );
      const fresh = await this.get<{ id: string }[]>(
        'queue reads',
        '/consultations?status=new&limit=100',
        desk,
      );
      for (const item of [...(waiting ?? []), ...(fresh ?? [])]) {
        if (!this.running) break;
        // calls are started by the first practice's admin, for its own requests
        if (desk === this.desks[0] && !this.known.includes(item.id)) this.known.push(item.id);
        if (this.handled.has(item.id)) continue;
        await this.work(item.id, desk);
      }
      await sleep(300);
    }
  }

  private async work(id: string, desk: Desk): Promise<void> {
    const detail = await this.get<{ status: string; identity: { status: string; confirmed: boolean } }>(
      'request opens',
      `/consultations/${id}`,
      desk,
    );
    if (!detail) return;
    if (detail.status === 'closed') {
      this.handled.add(id);
      return;
    }
    if (!['tracing', 'trace_unavailable', 'verified'].includes(detail.identity.status)) {
      // PDS said otherwise: staff would match the patient by hand; the run leaves it
      this.handled.add(id);
      return;
    }
    let confirmed = detail.identity.confirmed;
    if (!confirmed && detail.identity.status === 'verified') {
      confirmed = !!(await this.post(
        'patient confirmations',
        `/consultations/${id}/confirm-patient`,
        {},
        'clinician',
        desk,
      ));
    }
    // not traced yet (or the trace is owed again): the next round comes back to it
    if (!confirmed) return;
    if (!this.state.messaged.has(id)) {
      const sent = await this.post<{ notification: unknown }>(
        'messages',
        `/consultations/${id}/messages`,
        {
          body: 'Thank you. A clinician has reviewed your request; please see the summary.',
        },
        'clinician',
        desk,
      );
      if (!sent) return;
      if (sent.notification) this.state.messaged.add(id);
    }
    const closed = await this.post(
      'closes',
      `/consultations/${id}/close`,
      {
        outcomeCode: '182836005',
        outcomeDisplay: 'Review of medication',
        summary: `Chaos run: medication reviewed for request ${id}.`,
      },
      'clinician',
      desk,
    );
    if (closed) {
      this.state.closed.add(id);
      this.handled.add(id);
    }
  }

  /** Each service's /readyz once a second, tallied as `/readyz <service>`: what a load balancer sees. */
  private async readiness(): Promise<void> {
    const { triagePort, recordPort, signallingPort } = this.world.settings;
    const ports: [string, number][] = [
      ['triage', triagePort],
      ['record', recordPort],
      ['signalling', signallingPort],
    ];
    const watched = ports.filter(([name]) => this.world.processes.has(name));
    while (this.running) {
      await Promise.all(
        watched.map(([name, port]) => this.call(`/readyz ${name}`, `http://127.0.0.1:${port}/readyz`)),
      );
      await sleep(1000);
    }
  }

  /** The newest request seen that the clinician has not closed: what a call is started for. */
  private openRequest(): string | undefined {
    return this.known.findLast((id) => !this.handled.has(id));
  }

  /** A clinician starting a video call every few seconds and joining it on the call node. */
  private async calls(): Promise<void> {
    while (this.running) {
      const consultationId = this.openRequest();
      if (consultationId) {
        const call = await this.post<{ hostToken: string; nodeUrl?: string }>(
          'call starts',
          '/calls',
          { consultationId },
          'admin',
        );
        if (call) this.tally.record('call joins', await this.joinOnce(call.hostToken, call.nodeUrl));
      }
      await sleep(2000);
    }
  }

  /** Connects to the call node with a host token, joins and asks for a send transport; then leaves. */
  private async joinOnce(token: string, nodeUrl?: string): Promise<string> {
    const socket = this.callSocket(token, nodeUrl);
    try {
      return await joinCall(socket);
    } finally {
      socket.disconnect();
    }
  }

  /**
   * A socket to the call node the call is placed on, as the pages reach it: through the site's web
   * server at `nodeUrl`'s `/call-node/<id>/socket.io`; straight to the first node without one.
   */
  callSocket(token: string, nodeUrl?: string): Socket {
    const node = nodeUrl ? new URL(nodeUrl) : undefined;
    return io(node ? node.origin : `http://127.0.0.1:${this.world.settings.signallingPort}`, {
      ...(node ? { path: `${node.pathname.replace(/\/$/, '')}/socket.io` } : {}),
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 5000,
    });
  }

  /** A call of its own, joined and held open on the node it is placed on: its id and node, and the socket. */
  async placedCall(): Promise<{ callId: string; nodeUrl?: string; socket: Socket } | undefined> {
    const consultationId = this.openRequest();
    if (!consultationId) return undefined;
    const call = await this.post<{ callId: string; hostToken: string; nodeUrl?: string }>(
      'call starts',
      '/calls',
      { consultationId },
      'admin',
    );
    if (!call) return undefined;
    const socket = this.callSocket(call.hostToken, call.nodeUrl);
    if ((await joinCall(socket)) !== 'ok') {
      socket.disconnect();
      return undefined;
    }
    return { callId: call.callId, ...(call.nodeUrl ? { nodeUrl: call.nodeUrl } : {}), socket };
  }

  /** A fresh host token for the call and where it lives now, as the clinician's page asks while its socket is down. */
  hostToken(callId: string): Promise<{ token: string; nodeUrl?: string } | undefined> {
    return this.post('call host tokens', `/calls/${callId}/host-token`, {}, 'admin');
  }

  /** A call of its own, joined and held open (for the media worker fault). */
  async standingCall(): Promise<Socket | undefined> {
    const consultationId = this.openRequest();
    if (!consultationId) return undefined;
    const call = await this.post<{ hostToken: string }>('call starts', '/calls', { consultationId }, 'admin');
    if (!call) return undefined;
    const socket = this.callSocket(call.hostToken);
    const joined = await joinCall(socket);
    if (joined !== 'ok') {
      socket.disconnect();
      return undefined;
    }
    return socket;
  }
}

/** Join, then a send transport (a WebRtcTransport on the call's mediasoup router): "ok" or what went wrong. */
export async function joinCall(socket: Socket): Promise<string> {
  if (!socket.connected) {
    const connected = await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('ok'));
      socket.once('connect_error', (error: Error) => resolve(`refused (${error.message})`));
      setTimeout(() => resolve('no connection in 5 s'), 5000);
    });
    if (connected !== 'ok') return connected;
  }
  for (const [event, payload] of [
    ['call:join', {}],
    ['transport:create', { direction: 'send' }],
  ] as const) {
    const ack = (await socket
      .timeout(5000)
      .emitWithAck(event, payload)
      .catch(() => ({ ok: false, error: { code: 'no answer in 5 s' } }))) as {
      ok: boolean;
      error?: { code: string };
    };
    if (!ack.ok) return `${event} refused '${ack.error?.code ?? '?'}'`;
  }
  return 'ok';
}
