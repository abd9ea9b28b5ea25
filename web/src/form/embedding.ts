import type { PracticeEmbedding } from '@gpc/contracts';
import { ApiClient } from '../shared/api';
import { button } from '../shared/nhsuk';

/**
 * The form's side of the widget's messages (web/public/widget.js). The widget opens the form in an
 * iframe on the practice's own website and says hello; the form answers, and later asks it to close,
 * only when the hello came from its own parent window on one of the practice's website origins (the
 * practice's settings, read fresh from triage: the web server's frame-ancestors may lag a change by
 * its cache) or on our own origin (the widget demo). Anything else is ignored, and the form never
 * posts a message to an origin it has not checked.
 *
 * Messages: widget -> form `{ gpc: 'widget', type: 'hello' }`; form -> widget `{ gpc: 'form', type:
 * 'ready' }` and `{ gpc: 'form', type: 'close' }`. They carry nothing about the patient.
 */

export interface WidgetMessage {
  gpc: 'widget';
  type: 'hello';
}

const isWidgetHello = (data: unknown): data is WidgetMessage =>
  typeof data === 'object' &&
  data !== null &&
  (data as { gpc?: unknown }).gpc === 'widget' &&
  (data as { type?: unknown }).type === 'hello';

/** The origins that may embed this practice's form: its websites, and our own (the widget demo). */
async function embeddingOrigins(ods: string): Promise<string[]> {
  try {
    const client = new ApiClient();
    const { websiteOrigins } = await client.get<PracticeEmbedding>(
      `/practices/${encodeURIComponent(ods)}/embedding`,
    );
    return [location.origin, ...websiteOrigins];
  } catch {
    return [];
  }
}

/**
 * Listens for the widget's hello, from now on (the widget says it when the frame has loaded). Once a
 * hello is accepted the form shows a "Close this form" button under the page, which asks the
 * widget, on the origin checked, to close its panel.
 */
export function listenForWidget(ods: string, actions: HTMLElement): void {
  if (window.parent === window) return; // not in a frame: no widget to talk to
  let allowed: Promise<string[]> | undefined;
  let widgetOrigin: string | undefined;
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (event.source !== window.parent || !isWidgetHello(event.data)) return;
    const origin = event.origin;
    allowed ??= embeddingOrigins(ods);
    void allowed.then((origins) => {
      if (!origins.includes(origin) || widgetOrigin !== undefined) return;
      widgetOrigin = origin;
      const close = button('Close this form', { variant: 'secondary' });
      close.addEventListener('click', () =>
        window.parent.postMessage({ gpc: 'form', type: 'close' }, origin),
      );
      actions.replaceChildren(close);
      actions.hidden = false;
      window.parent.postMessage({ gpc: 'form', type: 'ready' }, origin);
    });
  });
}
