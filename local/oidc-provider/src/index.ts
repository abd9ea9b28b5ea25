export * from './app';
export * from './config';
export { NHS_LOGIN_PATH, type ClientRegistration } from './nhs-login';
export { CIS2_PATH, cis2AcrValues } from './cis2';
export { cis2TestUsers, type AssuranceLevel, type Cis2TestUser, type NrbacRole } from './cis2-users';
export { nhsLoginTestUsers, type NhsLoginTestUser, type ProofingLevel } from './test-users';
export type { JWK as SigningKey } from 'oidc-provider';
