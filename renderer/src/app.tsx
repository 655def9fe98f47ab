import { useState } from 'react';

/** The console shell. The full console (backends, tools, clients, activity) builds on this. */
export function App() {
  const mcpUrl = `${window.location.origin}/mcp`;
  const [copyLabel, setCopyLabel] = useState('Copy');
  const copy = async () => {
    // The clipboard may be refused (no focus, no permission): say so instead of failing silently.
    const ok = await navigator.clipboard.writeText(mcpUrl).then(
      () => true,
      () => false,
    );
    setCopyLabel(ok ? 'Copied' : 'Copy failed');
    setTimeout(() => setCopyLabel('Copy'), 1500);
  };
  return (
    <main className="page">
      <header className="brand">
        <span className="logo" aria-hidden="true">
          C
        </span>
        <div>
          <h1>Cortex Gateway</h1>
          <p className="subtitle">One MCP endpoint for all your servers</p>
        </div>
      </header>
      <section className="card status" role="status">
        <span className="status-dot" aria-hidden="true" />
        <div>
          <h2>Console coming soon</h2>
          <p>The gateway is running. Servers, tools, clients and activity will be managed from here.</p>
        </div>
      </section>
      <section className="card">
        <h2>Your MCP endpoint</h2>
        <p>Point any client that speaks Streamable HTTP at this address.</p>
        <div className="url-row">
          <code>{mcpUrl}</code>
          <button type="button" onClick={() => void copy()}>
            {copyLabel}
          </button>
        </div>
      </section>
      <section className="card muted">
        <h2>Managing servers</h2>
        <p>
          Add servers to <code>cortex.config.json</code> in the data folder and restart the gateway. See which are
          healthy with <code>cortex-gateway backends</code>, or ask any connected client to call the <code>whoami</code>{' '}
          tool.
        </p>
      </section>
    </main>
  );
}
