import type { Key, ReactNode } from 'react';

/** One column: its heading and how a row fills its cell. */
export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** `muted` for secondary values (dates), `numeric` for counts, `code` for arguments and ids. */
  kind?: 'muted' | 'numeric' | 'code';
}

/**
 * The console's one table: a heading row, one row per item, and an actions cell at the end whose
 * buttons wrap onto a second line rather than push the table past the window (see styles.css,
 * "Tables"). `label` names the table for screen readers and tests.
 */
export function DataTable<T>({
  rows,
  columns,
  rowKey,
  actions,
  rowClass,
  label,
  className,
  headless,
}: {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => Key;
  actions?: (row: T) => ReactNode;
  rowClass?: (row: T) => string | undefined;
  label: string;
  className?: string;
  /** Rows that explain themselves (the apps to connect) need no heading row. */
  headless?: boolean;
}) {
  const cellClass = (column: Column<T>) => column.kind;
  return (
    <div className="table-wrap">
      <table className={className ? `data-table ${className}` : 'data-table'} aria-label={label}>
        {!headless && (
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column.header} className={cellClass(column)}>
                  {column.header}
                </th>
              ))}
              {actions && (
                <th className="actions-cell">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
        )}
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} className={rowClass?.(row)}>
              {columns.map((column) => (
                <td key={column.header} className={cellClass(column)}>
                  {column.cell(row)}
                </td>
              ))}
              {actions && (
                <td className="actions-cell">
                  <div className="row-actions">{actions(row)}</div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The name of an item and a second line under it (its kind, id or address). */
export function NameCell({ name, detail, children }: { name: ReactNode; detail?: ReactNode; children?: ReactNode }) {
  return (
    <>
      <div className="name">{name}</div>
      {detail !== undefined && <div className="detail">{detail}</div>}
      {children}
    </>
  );
}
