import { useCliCommand } from '../../hooks/use-cli-command.js';

/**
 * What the console shows without a session: how to get a sign-in link. `problem` says why a link
 * just opened did not sign in (already used, expired).
 */
export function SignIn({ problem }: { problem?: string }) {
  const cli = useCliCommand();
  return (
    <main className="sign-in">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          C
        </span>
        <div className="brand-name">Cortex Gateway</div>
      </div>
      <section className="card">
        <h1>{problem ? 'Sign-in link not valid' : 'Sign in to Cortex Gateway'}</h1>
        {problem && <p role="alert">{problem}</p>}
        <p>
          Open the sign-in link printed when the gateway started, or run <code>{cli} login</code> and open the link it
          prints. In the desktop app, choose Open Cortex in the tray.
        </p>
        <p className="hint">
          Each link works once. This browser then stays signed in for 7 days, for this address only, until you sign out.
        </p>
      </section>
    </main>
  );
}
