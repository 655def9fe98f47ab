/** Server-rendered consent and error pages: no JavaScript, escaped everywhere. */

export interface ScopeGroup {
  backend: string;
  readScope: string;
  writeScope: string;
  readTools: number;
  writeTools: number;
}

export interface ConsentView {
  requestId: string;
  csrf: string;
  clientName: string;
  clientId: string;
  redirectHost: string;
  groups: readonly ScopeGroup[];
  /** Scopes ticked when the page opens. */
  checked: ReadonlySet<string>;
}

const escape = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f7fb;color:#1d2433;margin:0}
main{max-width:560px;margin:40px auto;background:#fff;border:1px solid #e3e7f0;border-radius:14px;padding:28px 32px;box-shadow:0 1px 3px rgba(16,24,40,.06)}
h1{font-size:20px;margin:0 0 6px}.sub{color:#5b6478;margin:0 0 20px}.client{font-weight:600}
.host{font-family:ui-monospace,Menlo,monospace;background:#f0f3fa;border-radius:6px;padding:2px 6px}
fieldset{border:1px solid #e3e7f0;border-radius:10px;margin:0 0 12px;padding:10px 14px}
legend{font-weight:600;padding:0 6px}label{display:flex;gap:8px;align-items:center;padding:4px 0}
.count{color:#6b7385;font-size:13px}.actions{display:flex;gap:10px;justify-content:flex-end;margin-top:20px}
button{border:0;border-radius:8px;padding:10px 18px;font-weight:600;font-size:15px;cursor:pointer}
.approve{background:#4f6bed;color:#fff}.deny{background:#eef0f5;color:#1d2433}.empty{color:#6b7385}
`;

function page(title: string, body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${head}<title>${escape(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function renderConsentPage(view: ConsentView): string {
  const groups = view.groups
    .map((group) => {
      const read = `<label><input type="checkbox" name="scope" value="${escape(group.readScope)}"${view.checked.has(group.readScope) ? ' checked' : ''}> Read <span class="count">· ${group.readTools} read-only tool${group.readTools === 1 ? '' : 's'}, prompts and resources</span></label>`;
      const write = `<label><input type="checkbox" name="scope" value="${escape(group.writeScope)}"${view.checked.has(group.writeScope) ? ' checked' : ''}> Read and write <span class="count">· all ${group.readTools + group.writeTools} tools</span></label>`;
      return `<fieldset><legend>${escape(group.backend)}</legend>${read}${write}</fieldset>`;
    })
    .join('');
  return page(
    'Allow access — Cortex Gateway',
    `<h1>Allow <span class="client">${escape(view.clientName)}</span> to use your MCP servers?</h1>
<p class="sub">It will receive access at <span class="host">${escape(view.redirectHost)}</span>. Choose what it may use; you can revoke it at any time.</p>
<form method="post" action="/consent">
<input type="hidden" name="request_id" value="${escape(view.requestId)}">
<input type="hidden" name="csrf" value="${escape(view.csrf)}">
${groups || '<p class="empty">No MCP servers are configured yet; the client will only see the built-in tools.</p>'}
<div class="actions"><button class="deny" type="submit" name="decision" value="deny">Deny</button><button class="approve" type="submit" name="decision" value="approve">Allow</button></div>
</form>
<p class="count">Client id: ${escape(view.clientId)}</p>`,
  );
}

/** Shown while the owner decides in the app; reloads itself (no JavaScript) to pick up the answer. */
export function renderWaitingPage(requestId: string, token: string): string {
  const next = `/authorize/wait?request=${encodeURIComponent(requestId)}&token=${encodeURIComponent(token)}`;
  return page(
    'Waiting for approval — Cortex Gateway',
    `<h1>Waiting for the owner's approval</h1><p class="sub">The owner of this gateway has been asked to approve this sign-in in the Cortex app. This page continues by itself once they decide.</p>`,
    `<meta http-equiv="refresh" content="2;url=${escape(next)}">`,
  );
}

export function renderErrorPage(title: string, message: string): string {
  return page(title, `<h1>${escape(title)}</h1><p class="sub">${escape(message)}</p>`);
}

/** Pages that must never be framed (clickjacking) nor cached. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on the consent POST.
  'referrer-policy': 'same-origin',
});
