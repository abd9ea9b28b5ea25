import type { MfaEnrolment } from '@gpc/contracts';
import { byId, element } from './nhsuk';

/**
 * Two-factor authentication shown to a member of staff, by sign-in and their account page alike
 * (each has its own markup, ids under `prefix`): the secret to enrol as a QR code and as text, and
 * the recovery codes, each shown once.
 */

export function showEnrolment(prefix: string, enrolment: MfaEnrolment): void {
  byId<HTMLImageElement>(`${prefix}-qr`).src = enrolment.qrCode;
  // in fours, as apps ask for it to be typed
  byId(`${prefix}-secret`).textContent = enrolment.secret.replace(/(.{4})(?=.)/g, '$1 ');
  byId<HTMLInputElement>(`${prefix}-code`).value = '';
}

export function showRecoveryCodes(prefix: string, codes: string[]): void {
  byId(`${prefix}-codes`).replaceChildren(...codes.map((code) => element('li', {}, code)));
}
