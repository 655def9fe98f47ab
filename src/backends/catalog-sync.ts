import {
  ProtocolError,
  ProtocolErrorCode,
  type Client,
  type Prompt,
  type Resource,
  type ResourceTemplateType as ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/client';
import {
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
} from '@modelcontextprotocol/core';
import type { z } from 'zod';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { EMPTY_CATALOG, type BackendCatalog } from './types.js';

const MAX_LIST_PAGES = 1000;

/** The lists a `notifications/<kind>/list_changed` names; resources include their templates. */
export type ListKind = 'tools' | 'prompts' | 'resources';

export interface CatalogSyncOptions {
  log: Logger;
  /** Per-request timeout for the list calls (the backend's `timeoutMs`). */
  timeoutMs: () => number;
  /** The connection lists are re-fetched on; none while the backend is not connected. */
  client: () => Client | undefined;
  /** Called after a list_changed refresh replaced part of the catalog. */
  changed: (catalog: BackendCatalog) => void;
}

/**
 * A backend's catalog (tools, prompts, resources, templates), fetched whole when it connects and
 * kept in step with the server's list_changed notifications. The last known catalog stays while
 * the backend restarts, so clients keep a stable tool list.
 */
export class CatalogSync {
  readonly #options: CatalogSyncOptions;
  #catalog: BackendCatalog = EMPTY_CATALOG;
  /** Optional list methods the server does not implement, logged once each. */
  readonly #missingMethods = new Set<string>();
  readonly #refreshing = new Map<ListKind, Promise<void>>();
  readonly #refreshAgain = new Set<ListKind>();

  constructor(options: CatalogSyncOptions) {
    this.#options = options;
  }

  get catalog(): BackendCatalog {
    return this.#catalog;
  }

  clear(): void {
    this.#catalog = EMPTY_CATALOG;
  }

  /** Fetches every list the server declares a capability for, and makes it the catalog. */
  async load(client: Client): Promise<BackendCatalog> {
    const caps = client.getServerCapabilities() ?? {};
    const [tools, prompts, resources, resourceTemplates] = await Promise.all([
      caps.tools ? this.#listTools(client) : [],
      caps.prompts ? this.#listPrompts(client) : [],
      caps.resources ? this.#listResources(client) : [],
      caps.resources ? this.#listResourceTemplates(client) : [],
    ]);
    this.#catalog = Object.freeze({ tools, prompts, resources, resourceTemplates });
    return this.#catalog;
  }

  /** Re-fetches one list after the backend said it changed; coalesces bursts of notifications. */
  refresh(kind: ListKind): Promise<void> {
    const running = this.#refreshing.get(kind);
    if (running) {
      this.#refreshAgain.add(kind);
      return running;
    }
    const run = (async () => {
      do {
        this.#refreshAgain.delete(kind);
        const client = this.#options.client();
        if (!client) return;
        try {
          if (kind === 'tools') {
            const tools = await this.#listTools(client);
            this.#catalog = Object.freeze({ ...this.#catalog, tools });
          } else if (kind === 'prompts') {
            const prompts = await this.#listPrompts(client);
            this.#catalog = Object.freeze({ ...this.#catalog, prompts });
          } else {
            const [resources, resourceTemplates] = await Promise.all([
              this.#listResources(client),
              this.#listResourceTemplates(client),
            ]);
            this.#catalog = Object.freeze({ ...this.#catalog, resources, resourceTemplates });
          }
        } catch (error) {
          this.#options.log.warn('could not refresh catalog', { kind, error: describeError(error) });
          return;
        }
        this.#options.changed(this.#catalog);
      } while (this.#refreshAgain.has(kind));
    })().finally(() => this.#refreshing.delete(kind));
    this.#refreshing.set(kind, run);
    return run;
  }

  #listTools(client: Client): Promise<Tool[]> {
    return this.#listAll(client, 'tools/list', ListToolsResultSchema, (r) => r.tools);
  }
  #listPrompts(client: Client): Promise<Prompt[]> {
    return this.#listAll(client, 'prompts/list', ListPromptsResultSchema, (r) => r.prompts);
  }
  #listResources(client: Client): Promise<Resource[]> {
    return this.#listAll(client, 'resources/list', ListResourcesResultSchema, (r) => r.resources);
  }
  #listResourceTemplates(client: Client): Promise<ResourceTemplate[]> {
    return this.#listAll(
      client,
      'resources/templates/list',
      ListResourceTemplatesResultSchema,
      (r) => r.resourceTemplates,
    );
  }

  /**
   * Follows `nextCursor` to the end, so a paginating backend is seen whole. A list method the
   * server does not implement (JSON-RPC -32601, Method not found) counts as an empty list: many
   * servers declare `resources` but have no templates, or declare a capability they never filled.
   * Failing the backend over it would restart it forever and hide the tools it does have.
   */
  async #listAll<R extends { nextCursor?: string | undefined }, T>(
    client: Client,
    method: string,
    schema: z.ZodType<R>,
    items: (result: R) => T[],
  ): Promise<T[]> {
    const all: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let result: R;
      try {
        result = (await client.request({ method, params: cursor === undefined ? {} : { cursor } }, schema as never, {
          timeout: this.#options.timeoutMs(),
        })) as R;
      } catch (error) {
        if (!(error instanceof ProtocolError) || error.code !== ProtocolErrorCode.MethodNotFound) throw error;
        if (!this.#missingMethods.has(method)) {
          this.#missingMethods.add(method);
          this.#options.log.debug('optional list method not implemented; counted as empty', { method });
        }
        return all;
      }
      all.push(...items(result));
      if (!result.nextCursor || result.nextCursor === cursor) break;
      cursor = result.nextCursor;
    }
    return all;
  }
}
