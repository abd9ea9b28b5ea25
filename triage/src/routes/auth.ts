import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import { AppError, type StaffTokenClaims } from '@gpc/contracts';
import { decoyHash, verifyPassword } from '../auth/passwords';
import { accessTokenSeconds } from '../auth/staff-auth';
import { ErrorBody } from '../errors';

const refreshTokenDays = 7;
const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

const LoginBody = Type.Object(
  {
    odsCode: Type.String({ pattern: '^[A-Za-z0-9]{3,10}$' }),
    email: Type.String({ minLength: 3, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 20, maxLength: 200 }) },
  { additionalProperties: false },
);
const Session = Type.Object({
  accessToken: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  refreshToken: Type.String(),
  staff: Type.Object({
    id: Type.String(),
    name: Type.String(),
    role: Type.String(),
    practiceId: Type.String(),
  }),
});

interface StaffRow {
  id: string;
  practice_id: string;
  display_name: string;
  role: StaffTokenClaims['role'];
}

/** Staff sign in with their practice, email and password; a refresh token renews the short access token. */
export function registerAuthRoutes(app: FastifyInstance, pool: pg.Pool): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  async function openSession(staff: StaffRow) {
    const refreshToken = randomBytes(32).toString('base64url');
    await pool.query(
      `INSERT INTO staff_session (staff_id, refresh_token_hash, expires_at) VALUES ($1, $2, now() + make_interval(days => $3))`,
      [staff.id, hashToken(refreshToken), refreshTokenDays],
    );
    const claims: StaffTokenClaims = {
      typ: 'staff',
      sub: staff.id,
      practiceId: staff.practice_id,
      role: staff.role,
      name: staff.display_name,
    };
    return {
      accessToken: app.jwt.sign(claims),
      expiresIn: accessTokenSeconds,
      refreshToken,
      staff: { id: staff.id, name: staff.display_name, role: staff.role, practiceId: staff.practice_id },
    };
  }

  typed.post(
    '/auth/login',
    {
      schema: {
        summary: 'Staff sign-in',
        body: LoginBody,
        response: { 200: Session, 400: ErrorBody, 401: ErrorBody },
      },
      config: { rateLimit: { max: 10, timeWindow: '1 minute' } },
    },
    async (request) => {
      const { odsCode, email, password } = request.body;
      const { rows } = await pool.query<StaffRow & { password_hash: string }>(
        `SELECT s.id, s.practice_id, s.display_name, s.role, s.password_hash
           FROM staff s JOIN practice p ON p.id = s.practice_id
          WHERE p.ods_code = $1 AND s.email = $2 AND s.active`,
        [odsCode.toUpperCase(), email.trim().toLowerCase()],
      );
      const staff = rows[0];
      // an unknown email costs the same time as a wrong password
      const valid = await verifyPassword(password, staff?.password_hash ?? decoyHash);
      if (!staff || !valid)
        throw new AppError('unauthorized', 'The practice, email or password is not right');
      await pool.query(
        `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, 'login', 'staff', $2)`,
        [staff.practice_id, staff.id],
      );
      return openSession(staff);
    },
  );

  typed.post(
    '/auth/refresh',
    {
      schema: {
        summary: 'Renew an access token',
        body: RefreshBody,
        response: { 200: Session, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      // each refresh token works once: it is revoked as the new one is issued
      const { rows } = await pool.query<StaffRow>(
        `UPDATE staff_session ss SET revoked_at = now()
           FROM staff s
          WHERE ss.refresh_token_hash = $1 AND ss.revoked_at IS NULL AND ss.expires_at > now()
            AND s.id = ss.staff_id AND s.active
        RETURNING s.id, s.practice_id, s.display_name, s.role`,
        [hashToken(request.body.refreshToken)],
      );
      const staff = rows[0];
      if (!staff) throw new AppError('unauthorized', 'Sign in again');
      return openSession(staff);
    },
  );

  typed.post(
    '/auth/logout',
    {
      schema: { summary: 'End a session', body: RefreshBody, response: { 204: Type.Null(), 400: ErrorBody } },
    },
    async (request, reply) => {
      await pool.query(
        `UPDATE staff_session SET revoked_at = now() WHERE refresh_token_hash = $1 AND revoked_at IS NULL`,
        [hashToken(request.body.refreshToken)],
      );
      return reply.code(204).send(null);
    },
  );
}
