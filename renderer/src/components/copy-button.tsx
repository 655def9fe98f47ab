import { useEffect, useState } from 'react';

/**
 * Copies `text` and says how it went. The clipboard may be refused (no focus, no permission): the
 * label says so instead of failing silently, and the value stays on screen to select by hand.
 */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 1500);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = async () => {
    const ok = await navigator.clipboard.writeText(text).then(
      () => true,
      () => false,
    );
    setState(ok ? 'copied' : 'failed');
  };
  return (
    <button type="button" onClick={() => void copy()}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the text instead' : label}
    </button>
  );
}

/** A value to paste elsewhere (an MCP URL, a new token), shown whole with its copy button. */
export function CopyableValue({ value, secret, label }: { value: string; secret?: boolean; label?: string }) {
  return (
    <div className="copyable">
      <code className={secret ? 'token' : undefined} {...(label ? { 'aria-label': label } : {})}>
        {value}
      </code>
      <CopyButton text={value} />
    </div>
  );
}
