import type { StaffRole } from '@gpc/contracts';

/**
 * From NHS CIS2's national RBAC roles to this service's staff roles: the one table.
 *
 * CIS2 gives a user's roles in the `nhsid_nrbac_roles` claim (scope `nationalrbacaccess`), one per
 * role they hold at an organisation: `org_code` (its ODS code) and `role_code`, a
 * `S<sector>:G<group>:R<role>` triple whose last part is the national RBAC job role code. The codes
 * and names below are the UK Core SDS job role names (CodeSystem
 * https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName, the R8000-R8024 "Access Role" codes,
 * also listed by NHS England's "User roles and access" guidance and its national RBAC database).
 * See: https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers
 *
 * A code not in this table gives no access here (e.g. R8004 Healthcare Student, R8014 Social
 * Worker, R8015 Systems Support, R0001 Privacy Officer). Changing it is a clinical safety
 * decision: who may triage patients' requests (clinician), who may run the practice's settings
 * and staff (admin).
 */
export const nrbacRoleMap: Readonly<Record<string, { role: StaffRole; name: string }>> = {
  R8000: { role: 'clinician', name: 'Clinical Practitioner Access Role' },
  R8001: { role: 'clinician', name: 'Nurse Access Role' },
  R8002: { role: 'clinician', name: 'Nurse Manager Access Role' },
  R8003: { role: 'clinician', name: 'Health Professional Access Role' },
  R8006: { role: 'reception', name: 'Medical Secretary Access Role' },
  R8008: { role: 'reception', name: 'Admin/Clinical Support Access Role' },
  R8009: { role: 'reception', name: 'Receptionist Access Role' },
  R8010: { role: 'reception', name: 'Clerical Access Role' },
  R8013: { role: 'reception', name: 'Health Records Manager Access Role' },
  // the practice manager: manages the practice's administrative and clerical staff
  R8011: { role: 'admin', name: 'Clerical Manager Access Role' },
};

/** Most to least: a user holding several roles at the practice gets the most their roles allow. */
const rank: Record<StaffRole, number> = { admin: 3, clinician: 2, reception: 1 };

/** One element of `nhsid_nrbac_roles`, as far as the mapping reads it. */
export interface NrbacRoleClaim {
  org_code?: unknown;
  role_code?: unknown;
}

/** The national RBAC job role code (`R8000`) of a `role_code` such as `S8000:G8000:R8000`. */
export function jobRoleCode(roleCode: unknown): string | undefined {
  if (typeof roleCode !== 'string') return undefined;
  return roleCode
    .split(':')
    .map((part) => part.trim().replace(/^"|"$/g, ''))
    .find((part) => /^R\d{4}$/.test(part));
}

/**
 * This service's role for the user at the practice with this ODS code: the highest any of their
 * roles held at that code maps to; undefined when they hold none there that maps.
 */
export function staffRoleAt(roles: readonly NrbacRoleClaim[], odsCode: string): StaffRole | undefined {
  let best: StaffRole | undefined;
  for (const held of roles) {
    if (typeof held.org_code !== 'string' || held.org_code.toUpperCase() !== odsCode.toUpperCase()) continue;
    const code = jobRoleCode(held.role_code);
    const mapped = code ? nrbacRoleMap[code]?.role : undefined;
    if (mapped && (!best || rank[mapped] > rank[best])) best = mapped;
  }
  return best;
}
