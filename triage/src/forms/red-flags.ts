// The red-flag rule and the answer checks live in contracts, shared with the online form.
export {
  redFlagExtensions,
  redFlagExtensionUrl,
  redFlagOutcome,
  redFlagsRaised,
  responseProblems,
  type RedFlag,
  type RedFlagLevel,
} from '@gpc/contracts';
