import { useEffect, useState } from 'react';
import { api, SIGNED_OUT_EVENT } from './api.js';
import { useCliCommand } from './hooks/use-cli-command.js';
import { Activity } from './pages/activity/activity.js';
import { usePendingApprovals } from './pages/approvals/approvals.js';
import { Clients } from './pages/clients/clients.js';
import { Overview } from './pages/overview/overview.js';
import { Servers } from './pages/servers/servers.js';
import { Settings } from './pages/settings/settings.js';
import { Tools } from './pages/tools/tools.js';
import { href, PAGES, usePage, type PageId } from './router.js';

const CONTENT: Record<PageId, () => React.JSX.Element> = {
  overview: Overview,
  servers: Servers,
  tools: Tools,
  access: Clients,
  activity: Activity,
  settings: Settings,
};

/** The console shell: a sidebar of pages and the page itself. */
export function App() {
  const page = usePage();
  const Page = CONTENT[page];
  // Requests through the tunnel wait for the owner: the count shows on every page.
  const waiting = usePendingApprovals().pending?.length ?? 0;
  const signedOut = useSignedOut();
  // Asked for now, while signed in: the signed-out notice below prints it.
  const cli = useCliCommand();
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Console">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            C
          </span>
          <div>
            <div className="brand-name">Cortex Gateway</div>
            <div className="subtitle">One MCP endpoint for all your servers</div>
          </div>
        </div>
        {PAGES.map((p) => (
          <a key={p.id} href={href(p.id)} className="nav-link" aria-current={p.id === page ? 'page' : undefined}>
            {p.label}
            {p.id === 'access' && waiting > 0 && (
              <span className="nav-badge" title={`${waiting} waiting for your approval`} aria-hidden="true">
                {waiting}
              </span>
            )}
          </a>
        ))}
        <button
          type="button"
          className="link sign-out"
          // Signed out, with nothing stored any more, the console opens on the sign-in page.
          onClick={() => void api.logout().finally(() => window.location.assign('/app/'))}
        >
          Sign out
        </button>
      </nav>
      <main className="page">
        {signedOut ? (
          <section className="card alert" role="alert">
            <h2>Your console session has ended</h2>
            <p>
              It expired or was signed out, so nothing on this page is current. Open a new sign-in link: run{' '}
              <code>{cli} login</code> and open the link it prints, or choose Open Cortex in the tray.
            </p>
          </section>
        ) : (
          <>
            <h1>{PAGES.find((p) => p.id === page)!.label}</h1>
            <Page />
          </>
        )}
      </main>
    </div>
  );
}

/** Whether the API has said the session is gone (any page's call may be the first to learn it). */
function useSignedOut(): boolean {
  const [signedOut, setSignedOut] = useState(false);
  useEffect(() => {
    const onSignedOut = () => setSignedOut(true);
    window.addEventListener(SIGNED_OUT_EVENT, onSignedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, onSignedOut);
  }, []);
  return signedOut;
}
