import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { openConsole } from './api.js';
import { App } from './app.js';
import { SignIn } from './pages/sign-in/sign-in.js';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
// Signed in before anything asks the API: every call then carries the session.
void openConsole().then(
  (opened) =>
    root.render(
      <StrictMode>
        {opened.state === 'signed-in' ? (
          <App />
        ) : (
          <SignIn {...(opened.state === 'link-invalid' ? { problem: opened.message } : {})} />
        )}
      </StrictMode>,
    ),
  (error: unknown) =>
    root.render(
      <StrictMode>
        <SignIn problem={`The gateway did not answer (${error instanceof Error ? error.message : String(error)}).`} />
      </StrictMode>,
    ),
);
