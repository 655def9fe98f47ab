/**
 * Server-rendered authorization pages, escaped everywhere. The one script they may load is ours,
 * `/consent.js` (src/oauth/consent-script.ts): no inline script, and every page works without it
 * (it waits, reloading itself).
 */

export interface ScopeGroup {
  backend: string;
  readScope: string;
  writeScope: string;
  readTools: number;
  writeTools: number;
}

/** The consent form, for an owner signed in to the console in this browser. */
export interface ConsentFormView {
  requestId: string;
  csrf: string;
  groups: readonly ScopeGroup[];
  /** Scopes ticked when the form shows: read access at most (the owner ticks write). */
  checked: ReadonlySet<string>;
  /**
   * The owner approved this client before and `checked` is that grant: the script approves it
   * again by itself once it has confirmed the owner's session, so a returning app needs no click.
   */
  returning?: boolean;
}

/**
 * The page of a request that waits for the owner. Listed (`userCode` and `waitUrl`): it waits in
 * the owner's approval list and polls `waitUrl` until they decide. Unlisted: over the caps, in no
 * list, so only an owner signed in to the console in this browser can approve it here.
 */
export interface RequestPageView {
  clientName: string;
  clientId: string;
  redirectHost: string;
  userCode?: string;
  waitUrl?: string;
  /** Where the owner may approve in this browser; absent where only the approval list may decide. */
  form?: ConsentFormView;
  /** How the owner types the CLI, as this page may show it. */
  cli: string;
}

/** Where the page's script is served (and the only script any of these pages may run). */
export const CONSENT_SCRIPT_PATH = '/consent.js';

const escape = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A name the requester chose, isolated: whatever direction its characters have, the text around it
 * keeps its own (names are also stripped of bidi controls when stored; this holds for any text).
 */
const isolated = (value: string, className = 'client') => `<bdi class="${className}">${escape(value)}</bdi>`;

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f7fb;color:#1d2433;margin:0}
main{max-width:560px;margin:40px auto;background:#fff;border:1px solid #e3e7f0;border-radius:14px;padding:28px 32px;box-shadow:0 1px 3px rgba(16,24,40,.06)}
[hidden]{display:none!important}
h1{font-size:20px;margin:0 0 6px}.sub{color:#5b6478;margin:0 0 20px}.client{font-weight:600}
.host{font-family:ui-monospace,Menlo,monospace;background:#f0f3fa;border-radius:6px;padding:2px 6px}
.code-label{margin:0;color:#5b6478;font-size:13px;text-align:center}
.code{font:700 34px/1.3 ui-monospace,Menlo,monospace;letter-spacing:.14em;text-align:center;background:#f0f3fa;border-radius:10px;padding:12px;margin:4px 0 18px}
.where{margin:0 0 12px}.where li{margin:4px 0}code{font-family:ui-monospace,Menlo,monospace;font-size:14px}
fieldset{border:1px solid #e3e7f0;border-radius:10px;margin:0 0 12px;padding:10px 14px}
legend{font-weight:600;padding:0 6px}label{display:flex;gap:8px;align-items:center;padding:4px 0}
.count{color:#6b7385;font-size:13px}.actions{display:flex;gap:10px;justify-content:flex-end;margin-top:20px}
button{border:0;border-radius:8px;padding:10px 18px;font-weight:600;font-size:15px;cursor:pointer}
.approve{background:#4f6bed;color:#fff}.deny{background:#eef0f5;color:#1d2433}.empty{color:#6b7385}
.status{color:#b42318;margin:12px 0 0}
`;

function page(title: string, body: string, head = '', attributes = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${head}<title>${escape(title)}</title><style>${STYLE}</style></head><body><main${attributes}>${body}</main></body></html>`;
}

function consentForm(view: RequestPageView, form: ConsentFormView): string {
  const groups = form.groups
    .map((group) => {
      const read = `<label><input type="checkbox" name="scope" value="${escape(group.readScope)}"${form.checked.has(group.readScope) ? ' checked' : ''}> Read <span class="count">· ${group.readTools} read-only tool${group.readTools === 1 ? '' : 's'}, prompts and resources</span></label>`;
      const write = `<label><input type="checkbox" name="scope" value="${escape(group.writeScope)}"${form.checked.has(group.writeScope) ? ' checked' : ''}> Read and write <span class="count">· all ${group.readTools + group.writeTools} tools</span></label>`;
      return `<fieldset><legend>${escape(group.backend)}</legend>${read}${write}</fieldset>`;
    })
    .join('');
  // Hidden until the script has checked that this browser holds a live console session; submitted
  // by the script with that session (a plain form POST is refused: it proves nobody is the owner).
  const intro = form.returning
    ? `<h1>Signing ${isolated(view.clientName)} in again</h1>
<p class="sub">You allowed it before: it continues with the access ticked below, returning to <span class="host">${escape(view.redirectHost)}</span>. Change its access in the console under Clients &amp; access.</p>`
    : `<h1>Allow ${isolated(view.clientName)} to use your MCP servers?</h1>
<p class="sub">It will receive access at <span class="host">${escape(view.redirectHost)}</span>. Read access is ticked; tick write access only if it needs it. You can revoke it at any time.</p>`;
  return `<form id="consent-form" method="post" action="/consent" hidden${form.returning ? ' data-returning="approve"' : ''}>
${intro}
<input type="hidden" name="request_id" value="${escape(form.requestId)}">
<input type="hidden" name="csrf" value="${escape(form.csrf)}">
${groups || '<p class="empty">No MCP servers are configured yet; the client will only see the built-in tools.</p>'}
<div class="actions"><button class="deny" type="submit" name="decision" value="deny">Deny</button><button class="approve" type="submit" name="decision" value="approve">Allow</button></div>
${view.userCode ? `<p class="count">Request code ${escape(view.userCode)} · client id ${escape(view.clientId)}</p>` : `<p class="count">Client id: ${escape(view.clientId)}</p>`}
</form>`;
}

/** Where the owner approves, as a list the waiting page shows. */
function whereToApprove(cli: string): string {
  return `<ul class="where">
<li>in the Cortex console: <b>Clients &amp; access</b>;</li>
<li>from the Cortex desktop notification;</li>
<li>in a terminal: <code>${escape(cli)} approvals</code>, then <code>${escape(cli)} approvals approve &lt;code&gt;</code>.</li>
</ul>`;
}

/**
 * The page of a request waiting for the owner (see `RequestPageView`). It never offers a way to
 * approve without the owner: the form is there only for the page's script to show to a browser
 * signed in to the console, and the server checks that session again when it decides.
 */
export function renderRequestPage(view: RequestPageView): string {
  const who = `${isolated(view.clientName)} asks to use the MCP servers of this gateway; it will return to <span class="host">${escape(view.redirectHost)}</span>.`;
  const owner = view.form
    ? `<p class="count">Are you the owner? Sign in to the console in this browser, at this same address (<code>${escape(view.cli)} login</code> prints a link): this page then lets you approve here.</p>`
    : '';
  let body: string;
  if (view.userCode && view.waitUrl) {
    body = `<section id="waiting">
<h1>Waiting for the owner's approval</h1>
<p class="sub">${who}</p>
<p class="code-label">Request code</p>
<p class="code" id="request-code">${escape(view.userCode)}</p>
<p>The owner of this gateway approves or denies this request, checking that the code they see is the one above:</p>
${whereToApprove(view.cli)}
<p>This page continues by itself once they decide.</p>
${owner}
</section>`;
  } else {
    body = `<section id="waiting">
<h1>Only the owner can approve this request</h1>
<p class="sub">${who}</p>
<p>Too many sign-ins are waiting for the owner's approval, so this one was not added to the list. The owner can approve it on this page after signing in to the console in this browser, at this same address (<code>${escape(view.cli)} login</code> prints a link). This page needs JavaScript for that.</p>
</section>`;
  }
  const form = view.form ? consentForm(view, view.form) : '';
  const status = view.form ? '<p class="status" id="consent-status" role="status"></p>' : '';
  // The page reloads itself to learn the owner's decision. With the script running, the script
  // does it (and may show the form instead), so the refresh is for pages without JavaScript.
  const refresh = view.waitUrl ? `<meta http-equiv="refresh" content="2;url=${escape(view.waitUrl)}">` : '';
  const head = view.form
    ? `${refresh ? `<noscript>${refresh}</noscript>` : ''}<script src="${CONSENT_SCRIPT_PATH}" defer></script>`
    : refresh;
  const attributes = view.form ? ` id="consent" data-wait="${escape(view.waitUrl ?? '')}"` : '';
  return page(
    view.userCode ? 'Waiting for approval — Cortex Gateway' : 'Approval needed — Cortex Gateway',
    body + form + status,
    head,
    attributes,
  );
}

export function renderErrorPage(title: string, message: string): string {
  return page(title, `<h1>${escape(title)}</h1><p class="sub">${escape(message)}</p>`);
}

/** Pages that must never be framed (clickjacking) nor cached; only our own script may run. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on the consent POST.
  'referrer-policy': 'same-origin',
});
