// The red-flag rule and the answer checks live in contracts, shared with the online form.
export { redFlagExtensionUrl, redFlagsRaised, responseProblems, type RedFlag } from '@gpc/contracts';
