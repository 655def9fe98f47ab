import type { ReactNode } from 'react';

/** One section of a page: a heading, an optional summary beside it, and its content. */
export function Card({
  title,
  summary,
  tone,
  children,
}: {
  title?: ReactNode;
  summary?: ReactNode;
  /** `attention`: something waits for the owner; `alert`: something went wrong. */
  tone?: 'attention' | 'alert';
  children: ReactNode;
}) {
  return (
    <section className={tone ? `card ${tone}` : 'card'}>
      {(title !== undefined || summary !== undefined) && (
        <div className="card-head">
          {title !== undefined && <h2>{title}</h2>}
          {summary !== undefined && <span className="summary">{summary}</span>}
        </div>
      )}
      {children}
    </section>
  );
}

/** A state shown as a coloured pill; the tone names the colour (ready green, down red…). */
export type BadgeTone = 'ready' | 'connecting' | 'degraded' | 'down' | 'disabled';

export function Badge({ tone, children }: { tone: BadgeTone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}
