import { describe, expect, it } from 'vitest';
import { askRefusal, requiredCapabilities } from './call-context.js';

describe('askRefusal', () => {
  it('lets through what the client declared', () => {
    expect(askRefusal('sampling/createMessage', { messages: [] }, { sampling: {} })).toBeUndefined();
    expect(askRefusal('elicitation/create', { mode: 'url' }, { elicitation: { url: {} } })).toBeUndefined();
    expect(askRefusal('elicitation/create', {}, { elicitation: { form: {} } })).toBeUndefined();
    expect(askRefusal('roots/list', undefined, { roots: {} })).toBeUndefined();
  });

  it('refuses a capability the client did not declare', () => {
    expect(askRefusal('sampling/createMessage', {}, {})).toContain('sampling capability');
    expect(askRefusal('elicitation/create', {}, {})).toContain('elicitation capability');
    expect(askRefusal('roots/list', undefined, {})).toContain('roots capability');
  });

  it('reads an empty elicitation capability as form mode only', () => {
    expect(askRefusal('elicitation/create', { mode: 'form' }, { elicitation: {} })).toBeUndefined();
    expect(askRefusal('elicitation/create', { mode: 'url' }, { elicitation: {} })).toContain('elicitation.url');
  });

  it('refuses form mode to a client that declared URL mode only', () => {
    expect(askRefusal('elicitation/create', {}, { elicitation: { url: {} } })).toContain('elicitation.form');
  });

  it('refuses sampling with tools or context to a client without those sub-capabilities', () => {
    expect(askRefusal('sampling/createMessage', { tools: [] }, { sampling: {} })).toContain('sampling.tools');
    expect(askRefusal('sampling/createMessage', { includeContext: 'thisServer' }, { sampling: {} })).toContain(
      'sampling.context',
    );
    expect(askRefusal('sampling/createMessage', { includeContext: 'none' }, { sampling: {} })).toBeUndefined();
  });
});

describe('requiredCapabilities', () => {
  it('names what each question needs, sub-capabilities included', () => {
    expect(requiredCapabilities('roots/list', undefined)).toEqual({ roots: {} });
    expect(requiredCapabilities('elicitation/create', {})).toEqual({ elicitation: { form: {} } });
    expect(requiredCapabilities('elicitation/create', { mode: 'url' })).toEqual({ elicitation: { url: {} } });
    expect(requiredCapabilities('sampling/createMessage', { includeContext: 'none' })).toEqual({ sampling: {} });
    expect(requiredCapabilities('sampling/createMessage', { tools: [], includeContext: 'allServers' })).toEqual({
      sampling: { tools: {}, context: {} },
    });
  });

  it('names none for a question no capability covers', () => {
    expect(requiredCapabilities('elicitation/create', { mode: 'telepathy' })).toBeUndefined();
  });
});
