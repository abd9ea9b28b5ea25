export * from './app';
export * from './config';
export { NHS_LOGIN_PATH, type ClientRegistration } from './nhs-login';
export { nhsLoginTestUsers, type NhsLoginTestUser, type ProofingLevel } from './test-users';
export type { JWK as SigningKey } from 'oidc-provider';
