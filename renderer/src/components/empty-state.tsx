import type { ReactNode } from 'react';

/** What a list says when it has nothing to show yet, and what would fill it. */
export function EmptyState({ title, children }: { title?: string; children: ReactNode }) {
  return (
    <div className="empty-state">
      {title && <h3>{title}</h3>}
      <p>{children}</p>
    </div>
  );
}

/**
 * The three states every loaded list has besides its content: loading, failed, empty. `what` names
 * the thing in the error ("the servers"). Renders nothing once there is content to show.
 */
export function LoadState<T>({
  value,
  error,
  what,
  isEmpty,
  empty,
}: {
  value: T | undefined;
  error: string | undefined;
  what: string;
  isEmpty: (value: T) => boolean;
  empty: ReactNode;
}) {
  if (error)
    return (
      <ErrorText>
        Could not load {what}: {error}
      </ErrorText>
    );
  if (value === undefined) return <p className="muted-text">Loading…</p>;
  return isEmpty(value) ? <EmptyState>{empty}</EmptyState> : null;
}

/** A failure the page reports as a whole (not one field's). */
export function ErrorText({ children }: { children: ReactNode }) {
  return (
    <p className="error" role="alert">
      {children}
    </p>
  );
}
