/*
 * GP Consult practice widget. On the practice's own website:
 *   <script src="https://<gp-consult host>/widget.js" data-practice="A81001" async></script>
 * It adds a button that opens the practice's online form in a panel. Everything lives in a shadow
 * root, so the host page's styles cannot change it, and the form itself runs in an iframe on our origin.
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
        var style = document.createElement('style');
        style.textContent = css;
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
        open.addEventListener('click', function () {
          if (!panel.querySelector('iframe')) {
            var frame = document.createElement('iframe');
            frame.title = label;
            frame.src = origin + '/form.html?practice=' + encodeURIComponent(practice);
            panel.appendChild(frame);
          }
          panel.hidden = false;
          open.hidden = true;
          close.focus();
        });
        close.addEventListener('click', function () {
          panel.hidden = true;
          open.hidden = false;
          open.focus();
        });
        root.append(style, open, panel);
      }
    },
  );
  document.body.appendChild(document.createElement('gpc-consult'));
})();
