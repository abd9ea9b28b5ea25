/*
 * GP Consult practice widget. On the practice's own website:
 *   <script src="https://<gp-consult host>/widget.js" data-practice="A81001" async></script>
 * It adds a button that opens the practice's online form in a panel. Everything lives in a shadow
 * root, so the host page's styles cannot change it, and the form itself runs in an iframe on our origin.
 * The widget and the form talk by postMessage: the widget says hello to the form's window on our
 * origin once it has loaded, and heeds the form's answers ("close") only from that window on that
 * origin; the form answers only a hello from one of the practice's website origins (its settings).
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !window.customElements || customElements.get('gpc-consult')) return;
  var practice = (script.getAttribute('data-practice') || '').replace(/[^A-Za-z0-9]/g, '');
  var origin = new URL(script.src, location.href).origin;
  var label = script.getAttribute('data-label') || 'Contact your GP surgery online';

  var css =
    ':host{all:initial;position:fixed;right:16px;bottom:16px;z-index:2147483000;font-family:Arial,sans-serif}' +
    'button{all:initial;box-sizing:border-box;cursor:pointer;font:bold 16px/1.5 Arial,sans-serif;color:#fff;' +
    'background:#007f3b;border-radius:4px;padding:12px 16px;box-shadow:0 4px 0 #00401e}' +
    'button:focus-visible{outline:4px solid #ffeb3b;outline-offset:0}' +
    '.panel{position:fixed;right:16px;bottom:16px;width:min(420px,calc(100vw - 32px));height:min(680px,calc(100vh - 32px));' +
    'background:#fff;border:1px solid #d8dde0;border-radius:4px;box-shadow:0 8px 24px rgba(0,0,0,.25);display:flex;flex-direction:column}' +
    '.panel[hidden],button[hidden]{display:none}.bar{display:flex;justify-content:flex-end;background:#005eb8;padding:4px}' +
    '.close{background:#005eb8;box-shadow:none;padding:4px 12px}iframe{border:0;flex:1;width:100%}';

  customElements.define(
    'gpc-consult',
    class extends HTMLElement {
      connectedCallback() {
        if (this.shadowRoot) return;
        var root = this.attachShadow({ mode: 'open' });
        // a constructed stylesheet: a page's Content-Security-Policy (ours on the widget demo, or the
        // practice's own) that refuses inline <style> does not refuse it; a <style> only where unsupported
        var sheet = null;
        if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function') {
          sheet = new CSSStyleSheet();
          sheet.replaceSync(css);
          root.adoptedStyleSheets = [sheet];
        } else {
          var style = document.createElement('style');
          style.textContent = css;
          root.append(style);
        }
        var open = document.createElement('button');
        open.type = 'button';
        open.textContent = label;
        var panel = document.createElement('div');
        panel.className = 'panel';
        panel.hidden = true;
        panel.setAttribute('role', 'dialog');
        panel.setAttribute('aria-label', label);
        var bar = document.createElement('div');
        bar.className = 'bar';
        var close = document.createElement('button');
        close.type = 'button';
        close.className = 'close';
        close.textContent = 'Close';
        bar.appendChild(close);
        panel.appendChild(bar);
        var frame;
        open.addEventListener('click', function () {
          if (!frame) {
            frame = document.createElement('iframe');
            frame.title = label;
            frame.src = origin + '/form.html?practice=' + encodeURIComponent(practice);
            frame.addEventListener('load', function () {
              // to our origin only: if the frame is anything else by now, it never hears the hello
              frame.contentWindow.postMessage({ gpc: 'widget', type: 'hello' }, origin);
            });
            panel.appendChild(frame);
          }
          panel.hidden = false;
          open.hidden = true;
          close.focus();
        });
        var closePanel = function () {
          panel.hidden = true;
          open.hidden = false;
          open.focus();
        };
        close.addEventListener('click', closePanel);
        window.addEventListener('message', function (event) {
          // only the form's own window, on our origin: any other frame or window on the page is ignored
          if (!frame || event.source !== frame.contentWindow || event.origin !== origin) return;
          var data = event.data;
          if (data && data.gpc === 'form' && data.type === 'close') closePanel();
        });
        root.append(open, panel);
      }
    },
  );
  document.body.appendChild(document.createElement('gpc-consult'));
})();
