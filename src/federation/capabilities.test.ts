import { describe, expect, it } from 'vitest';
import { federatedCapabilities, STARTING_BACKEND, taskSupport } from './capabilities.js';

describe('federatedCapabilities', () => {
  it('declares only tools when no backend is known', () => {
    expect(federatedCapabilities([])).toEqual({ tools: { listChanged: true } });
    expect(federatedCapabilities([undefined])).toEqual({ tools: { listChanged: true } });
  });

  it('declares only tools for backends with tools only', () => {
    expect(federatedCapabilities([{ tools: {} }, { tools: { listChanged: true } }])).toEqual({
      tools: { listChanged: true },
    });
  });

  it('declares each feature some backend declared, with list_changed on the federated lists', () => {
    expect(
      federatedCapabilities([
        { tools: {}, logging: {} },
        { prompts: {}, resources: {}, completions: {} },
      ]),
    ).toEqual({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true },
      completions: {},
      logging: {},
    });
  });

  it('declares resource subscriptions only when a backend supports them', () => {
    expect(federatedCapabilities([{ resources: {} }, { resources: { subscribe: false } }]).resources).toEqual({
      listChanged: true,
    });
    expect(federatedCapabilities([{ resources: {} }, { resources: { subscribe: true } }]).resources).toEqual({
      listChanged: true,
      subscribe: true,
    });
  });

  it('declares everything while a backend that never connected is still starting', () => {
    expect(federatedCapabilities([{ tools: {} }, STARTING_BACKEND])).toEqual({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      completions: {},
      logging: {},
    });
  });
});

describe('taskSupport', () => {
  it('offers each era’s tasks only when a backend of that era runs tasks', () => {
    expect(taskSupport([])).toEqual({ legacy: false, modern: false });
    expect(taskSupport([undefined, 'legacy'])).toEqual({ legacy: true, modern: false });
    expect(taskSupport(['modern', undefined])).toEqual({ legacy: false, modern: true });
  });
});
