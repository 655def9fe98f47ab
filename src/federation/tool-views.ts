import type { ToolView } from './types.js';
import type { BackendCatalog } from '../backends/types.js';
import type { ToolOverride } from '../config/schema.js';
import { classify, type FederatedCatalog } from './catalog.js';
import { backendScope } from './scopes.js';

export interface ToolSource {
  name: string;
  id: string;
  enabled: boolean;
  catalog: BackendCatalog;
  overrides: Readonly<Record<string, ToolOverride>>;
}

/**
 * Every tool of every enabled backend, as the owner manages them: disabled ones too (they are not
 * in the federated catalog, so the owner could not turn them back on otherwise).
 */
export function toolViews(sources: readonly ToolSource[], catalog: FederatedCatalog): ToolView[] {
  const federatedName = new Map(catalog.tools.map((t) => [`${t.backend}\u0000${t.original}`, t.name]));
  const views: ToolView[] = [];
  for (const source of sources) {
    if (!source.enabled) continue;
    for (const tool of source.catalog.tools) {
      const override = source.overrides[tool.name];
      const access = classify(tool, override);
      const view: ToolView = {
        backend: source.name,
        original: tool.name,
        enabled: override?.enabled !== false,
        access,
        accessSource: override?.access
          ? 'override'
          : tool.annotations?.readOnlyHint !== undefined
            ? 'annotation'
            : 'default',
        scope: backendScope(source.id, access),
      };
      const name = federatedName.get(`${source.name}\u0000${tool.name}`);
      if (name !== undefined) view.name = name;
      const title = tool.title ?? tool.annotations?.title;
      if (title) view.title = title;
      if (tool.description) view.description = tool.description;
      views.push(view);
    }
  }
  return views;
}

/**
 * The `tools` entry of a backend's config after a change to one tool. Defaults are left out rather
 * than written, so a tool returned to its defaults leaves no trace in the owner's file.
 */
export function applyToolOverride(
  current: Readonly<Record<string, ToolOverride>> | undefined,
  tool: string,
  change: { enabled?: boolean; access?: 'read' | 'write' | null },
): Record<string, ToolOverride> {
  const next: Record<string, ToolOverride> = { ...current };
  const entry: ToolOverride = { ...next[tool] };
  if (change.enabled === true) delete entry.enabled;
  else if (change.enabled === false) entry.enabled = false;
  if (change.access === null) delete entry.access;
  else if (change.access !== undefined) entry.access = change.access;
  if (Object.keys(entry).length === 0) delete next[tool];
  else next[tool] = entry;
  return next;
}
