import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';

/** One issuer of the stand-in, answering every request under its path (e.g. `/nhs-login`). */
export interface MountedIssuer {
  /** Where it is mounted, e.g. `/nhs-login`. */
  path: string;
  /** Its issuer identifier: the server's public URL and `path`. */
  issuer: string;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

/** The stand-in's own pages for a sign-in in progress (oidc-provider leaves them to us). */
export type InteractionHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  route: { uid: string; action: string | undefined },
) => Promise<void>;

/** Under the issuer's path: the sign-in pages' routes, e.g. `/interaction/<uid>` and `/interaction/<uid>/login`. */
export const interactionPath = (path: string, uid: string): string => `${path}/interaction/${uid}`;

/**
 * An oidc-provider instance mounted under `path` of a plain node HTTP server, as its documentation
 * mounts one under a prefix: `originalUrl` keeps the full path (cookies and redirects use it) and
 * `url` loses the prefix. `/interaction/...` goes to the stand-in's own sign-in pages instead.
 */
export function mountProvider(
  provider: Provider,
  path: string,
  interactions: InteractionHandler,
): MountedIssuer {
  const callback = provider.callback();
  return {
    path,
    issuer: provider.issuer,
    async handle(request, response) {
      const url = request.url ?? '/';
      const interaction = /^\/interaction\/([\w-]+)(?:\/(\w+))?\/?(?:\?.*)?$/.exec(url.slice(path.length));
      if (interaction) {
        await interactions(request, response, { uid: interaction[1]!, action: interaction[2] });
        return;
      }
      const mounted = request as IncomingMessage & { originalUrl?: string };
      mounted.originalUrl = url;
      mounted.url = url.slice(path.length) || '/';
      await callback(request, response);
    },
  };
}
