import { useState } from 'react';
import { Backends } from './backends.js';
import { Clients } from './clients.js';

/** The console: the MCP URL and the live state of every server (clients, tools and activity come next). */
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
      <Backends />
      <Clients />
    </main>
  );
}
