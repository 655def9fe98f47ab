import { describe, expect, it } from 'vitest';
import { askRefusal } from './call-context.js';

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
