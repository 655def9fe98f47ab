import {
  UriTemplate,
  type Prompt,
  type Resource,
  type ResourceTemplateType as ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/server';
import type { ToolOverride } from '../config/schema.js';
import type { BackendCatalog } from '../backends/types.js';
import { assignNames } from './naming.js';

export type Access = 'read' | 'write';

export interface CatalogSource {
  /** Namespace prefix (backend id). */
  id: string;
  /** Backend name as configured. */
  name: string;
  catalog: BackendCatalog;
  overrides: Readonly<Record<string, ToolOverride>>;
}

export interface FederatedTool {
  /** The name clients see. */
  name: string;
  backend: string;
  backendId: string;
  /** The backend's own name, used when calling it. */
  original: string;
  access: Access;
  /** The tool as listed to clients: the backend's definition under its federated name. */
  definition: Tool;
}

export interface FederatedPrompt {
  name: string;
  backend: string;
  backendId: string;
  original: string;
  definition: Prompt;
}

/** The backend a resource, template or URI belongs to. */
export interface Owner {
  name: string;
  id: string;
}

export interface NamingNote {
  kind: 'tool' | 'prompt' | 'resource';
  backend: string;
  original: string;
  name: string;
  note: string;
}

export interface FederatedCatalog {
  readonly tools: readonly FederatedTool[];
  readonly prompts: readonly FederatedPrompt[];
  readonly resources: readonly Resource[];
  readonly resourceTemplates: readonly ResourceTemplate[];
  /** Owners, index for index, of `resources` and `resourceTemplates` (for filtering by grant). */
  readonly resourceOwners: readonly Owner[];
  readonly templateOwners: readonly Owner[];
  /** Renames, shortenings and collisions, reported rather than hidden. */
  readonly notes: readonly NamingNote[];
  tool(name: string): FederatedTool | undefined;
  prompt(name: string): FederatedPrompt | undefined;
  /** The backend that owns a resource URI: announced URIs first, then templates. */
  resourceOwner(uri: string): Owner | undefined;
  /** The backend that announced a resource template (`uriTemplate` as listed); the first one when several did. */
  templateOwner(uriTemplate: string): Owner | undefined;
}

/** `readOnlyHint: true` means read; anything else, including no annotation, counts as write. */
export function classify(tool: Tool, override?: ToolOverride): Access {
  if (override?.access) return override.access;
  return tool.annotations?.readOnlyHint === true ? 'read' : 'write';
}

export function buildCatalog(sources: readonly CatalogSource[]): FederatedCatalog {
  const notes: NamingNote[] = [];

  const toolEntries: Array<{ source: CatalogSource; tool: Tool }> = [];
  for (const source of sources) {
    for (const tool of source.catalog.tools) {
      if (source.overrides[tool.name]?.enabled === false) continue;
      toolEntries.push({ source, tool });
    }
  }
  const toolNames = assignNames(toolEntries.map(({ source, tool }) => ({ prefix: source.id, original: tool.name })));
  const tools: FederatedTool[] = toolEntries.map(({ source, tool }, i) => {
    const assigned = toolNames[i]!;
    if (assigned.note) {
      notes.push({ kind: 'tool', backend: source.name, original: tool.name, name: assigned.name, note: assigned.note });
    }
    return {
      name: assigned.name,
      backend: source.name,
      backendId: source.id,
      original: tool.name,
      access: classify(tool, source.overrides[tool.name]),
      definition: { ...tool, name: assigned.name },
    };
  });

  const promptEntries = sources.flatMap((source) => source.catalog.prompts.map((prompt) => ({ source, prompt })));
  const promptNames = assignNames(
    promptEntries.map(({ source, prompt }) => ({ prefix: source.id, original: prompt.name })),
  );
  const prompts: FederatedPrompt[] = promptEntries.map(({ source, prompt }, i) => {
    const assigned = promptNames[i]!;
    if (assigned.note) {
      notes.push({
        kind: 'prompt',
        backend: source.name,
        original: prompt.name,
        name: assigned.name,
        note: assigned.note,
      });
    }
    return {
      name: assigned.name,
      backend: source.name,
      backendId: source.id,
      original: prompt.name,
      definition: { ...prompt, name: assigned.name },
    };
  });

  // Resources keep their URIs (they are addresses, not names); the first backend to announce one owns it.
  const uriOwner = new Map<string, Owner>();
  const resources: Resource[] = [];
  const resourceOwners: Owner[] = [];
  const templates: Array<{ owner: Owner; template: UriTemplate }> = [];
  const resourceTemplates: ResourceTemplate[] = [];
  const templateOwners: Owner[] = [];
  for (const source of sources) {
    const owner: Owner = { name: source.name, id: source.id };
    for (const resource of source.catalog.resources) {
      const previous = uriOwner.get(resource.uri);
      if (previous !== undefined) {
        notes.push({
          kind: 'resource',
          backend: source.name,
          original: resource.uri,
          name: resource.uri,
          note: `also announced by "${previous.name}", which serves it`,
        });
        continue;
      }
      uriOwner.set(resource.uri, owner);
      resources.push(resource);
      resourceOwners.push(owner);
    }
    for (const template of source.catalog.resourceTemplates) {
      resourceTemplates.push(template);
      templateOwners.push(owner);
      try {
        templates.push({ owner, template: new UriTemplate(template.uriTemplate) });
      } catch {
        // A malformed template is still listed; it just cannot route reads.
      }
    }
  }

  const templateIndex = new Map<string, Owner>();
  resourceTemplates.forEach((template, i) => {
    if (!templateIndex.has(template.uriTemplate)) templateIndex.set(template.uriTemplate, templateOwners[i]!);
  });
  const toolIndex = new Map(tools.map((tool) => [tool.name, tool]));
  const promptIndex = new Map(prompts.map((prompt) => [prompt.name, prompt]));
  return Object.freeze({
    tools,
    prompts,
    resources,
    resourceTemplates,
    resourceOwners,
    templateOwners,
    notes,
    tool: (name: string) => toolIndex.get(name),
    prompt: (name: string) => promptIndex.get(name),
    templateOwner: (uriTemplate: string) => templateIndex.get(uriTemplate),
    resourceOwner(uri: string) {
      const owner = uriOwner.get(uri);
      if (owner !== undefined) return owner;
      for (const { owner, template } of templates) {
        try {
          if (template.match(uri)) return owner;
        } catch {
          // fall through to the next template
        }
      }
      return undefined;
    },
  });
}

/**
 * Word search over the catalog for `find_tools`: every query word must appear in the tool's name,
 * title, description or backend; matches in the name weigh more.
 */
export function searchTools(tools: readonly FederatedTool[], query: string, limit: number): FederatedTool[] {
  const words = query
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  if (words.length === 0) return tools.slice(0, limit);
  const scored: Array<{ tool: FederatedTool; score: number }> = [];
  for (const tool of tools) {
    const name = `${tool.name} ${tool.definition.title ?? ''}`.toLowerCase();
    const text = `${tool.definition.description ?? ''} ${tool.backend}`.toLowerCase();
    let score = 0;
    let all = true;
    for (const word of words) {
      if (name.includes(word)) score += 3;
      else if (text.includes(word)) score += 1;
      else {
        all = false;
        break;
      }
    }
    if (all) scored.push({ tool, score });
  }
  scored.sort((a, b) => b.score - a.score || (a.tool.name < b.tool.name ? -1 : 1));
  return scored.slice(0, limit).map((entry) => entry.tool);
}
