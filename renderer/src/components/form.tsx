import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError } from '../api.js';

/** A message under the field it is about (or under the whole form, for `form`). */
export function FieldError({ children }: { children: ReactNode }) {
  return children ? <span className="field-error">{children}</span> : null;
}

/** A labelled input with its hint and its error; the input is the child. */
export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  children: ReactNode;
}) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
      <FieldError>{error}</FieldError>
      {hint && <span className="hint">{hint}</span>}
    </label>
  );
}

/** The buttons that end a form or a panel, right-aligned, the main one last. */
export function Actions({ children }: { children: ReactNode }) {
  return <div className="actions">{children}</div>;
}

/**
 * A form with a heading: named by it for assistive technology (and tests), validated by the page
 * rather than by the browser (the page words the messages and places them by their field).
 */
export function Form({
  title,
  intro,
  onSubmit,
  children,
}: {
  title?: string;
  intro?: ReactNode;
  onSubmit: () => void | Promise<void>;
  children: ReactNode;
}) {
  const id = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void onSubmit();
  };
  return (
    <form className="form" onSubmit={submit} noValidate {...(title ? { 'aria-labelledby': id } : {})}>
      {title && <h3 id={id}>{title}</h3>}
      {intro && <p className="muted-text">{intro}</p>}
      {children}
    </form>
  );
}

/** Where an error goes on a form: the key of a field, or `form` for the form as a whole. */
export type FieldKey = string;

/**
 * The form field an API refusal is about. The owner API names the JSON path at fault in `field`
 * (`gateway.port`, `mcpServers.web.url`, `ttlSeconds`); `paths` maps paths (or their prefixes) to the
 * form's own keys, and the longest that matches wins. The message itself is never parsed.
 */
export function fieldOf(error: unknown, paths: Readonly<Record<string, FieldKey>>): FieldKey {
  const field = error instanceof ApiError ? error.field : undefined;
  if (!field) return 'form';
  const matches = Object.keys(paths).filter(
    (path) => field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[`),
  );
  const best = matches.sort((a, b) => b.length - a.length)[0];
  return best === undefined ? 'form' : paths[best]!;
}

/** The text of anything thrown, for showing. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A form's errors by field key: set from local checks, or from an API refusal placed by its field. */
export function useFieldErrors() {
  const [errors, setErrors] = useState<Record<FieldKey, string>>({});
  return {
    errors,
    set: setErrors,
    clear: () => setErrors({}),
    /** Shows an API refusal next to the field it names (see `fieldOf`). */
    fromApi: (error: unknown, paths: Readonly<Record<string, FieldKey>>) =>
      setErrors({ [fieldOf(error, paths)]: messageOf(error) }),
  };
}
