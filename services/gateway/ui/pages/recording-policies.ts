import { api, type RecordingPolicy } from '../api.js';
import { field, h } from '../dom.js';

const describe = (p: RecordingPolicy): string =>
  p.enabled
    ? `on, ${p.mode === 'strict' ? 'strict' : 'best effort'}${p.recordInput ? ', with input' : ''}`
    : 'off';

/** The scope as the API's path: "global", "groups/<name>", "servers/<id>". */
const pathOf = (scope: string): string =>
  scope === 'global'
    ? 'global'
    : scope.startsWith('group:')
      ? `groups/${encodeURIComponent(scope.slice(6))}`
      : `servers/${encodeURIComponent(scope.slice(7))}`;

/**
 * The admin's recording switches: global, per server group, per server. The most specific one
 * set applies to a server; none means sessions are not recorded.
 */
export function recordingPolicies(fail: (err: unknown) => void): HTMLElement {
  const list = h('ul', { id: 'policy-list' });
  const kind = h(
    'select',
    { id: 'policy-kind' },
    h('option', { value: 'global' }, 'Everything'),
    h('option', { value: 'groups' }, 'Server group'),
    h('option', { value: 'servers' }, 'Server'),
  );
  const target = h('input', { id: 'policy-target', placeholder: 'group name or server' });
  const enabled = h('input', { id: 'policy-enabled', type: 'checkbox', checked: true });
  const mode = h(
    'select',
    { id: 'policy-mode' },
    h('option', { value: 'best_effort' }, 'Best effort: the session goes on, gaps are marked'),
    h('option', { value: 'strict' }, 'Strict: end the session if it cannot be recorded'),
  );
  const input = h('input', { id: 'policy-input', type: 'checkbox' });
  const save = h('button', { id: 'policy-save', type: 'submit', class: 'primary' }, 'Save');

  const load = async (): Promise<void> => {
    const [policies, servers] = await Promise.all([api.listPolicies(), api.listServers()]);
    const names = new Map(servers.map((s) => [s.id, s.name]));
    const label = (scope: string) =>
      scope === 'global'
        ? 'Everything'
        : scope.startsWith('group:')
          ? `Group ${scope.slice(6)}`
          : `Server ${names.get(scope.slice(7)) ?? scope.slice(7)}`;
    list.replaceChildren(
      ...policies.map((p) =>
        h(
          'li',
          { 'data-testid': 'policy', 'data-scope': p.scope },
          `${label(p.scope)}: ${describe(p)} `,
          h(
            'button',
            {
              type: 'button',
              onclick: () => void api.deletePolicy(pathOf(p.scope)).then(load).catch(fail),
            },
            'Remove',
          ),
        ),
      ),
    );
    if (policies.length === 0) list.append(h('li', { class: 'muted' }, 'Nothing is recorded.'));
  };

  const form = h(
    'form',
    { id: 'policy-form', class: 'inline-form' },
    field('Applies to', kind),
    field('Group or server', target),
    h('label', { class: 'check' }, enabled, ' Record'),
    field('Mode', mode),
    h('label', { class: 'check' }, input, ' Record input (may capture passwords)'),
    save,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      let path = 'global';
      if (kind.value === 'groups') path = `groups/${encodeURIComponent(target.value.trim())}`;
      if (kind.value === 'servers') {
        const wanted = target.value.trim();
        const server = (await api.listServers()).find((s) => s.name === wanted || s.id === wanted);
        if (!server) throw new Error(`no server named ${wanted}`);
        path = `servers/${server.id}`;
      }
      await api.setPolicy(path, {
        enabled: enabled.checked,
        mode: mode.value === 'strict' ? 'strict' : 'best_effort',
        recordInput: input.checked,
      });
      await load();
    })().catch(fail);
  });
  void load().catch(fail);
  return h(
    'section',
    { class: 'card', id: 'recording-policies' },
    h('h2', {}, 'Recording'),
    list,
    form,
  );
}
