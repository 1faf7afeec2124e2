import type { Participant, Role } from '@sallyport/protocol';
import { h } from '../dom.js';

const ROLE_LABEL: Record<Role, string> = {
  owner: 'owner',
  control: 'has control',
  view: 'watching',
};

export interface ParticipantActions {
  /** The signed-in user, marked "(you)". */
  me: string | undefined;
  /** The viewer of the list owns the session: they may hand out and take back control. */
  isOwner: boolean;
  grant(userId: string): void;
  revoke(userId: string): void;
}

/** One row per participant: who they are, their role, their open tabs, and the owner's actions. */
export function participantRows(
  participants: readonly Participant[],
  actions: ParticipantActions,
): HTMLLIElement[] {
  return participants.map((p) => {
    const action =
      !actions.isOwner || p.role === 'owner'
        ? null
        : p.role === 'control'
          ? h(
              'button',
              {
                type: 'button',
                'data-testid': 'revoke-control',
                onclick: () => actions.revoke(p.userId),
              },
              'Take back control',
            )
          : h(
              'button',
              {
                type: 'button',
                'data-testid': 'grant-control',
                onclick: () => actions.grant(p.userId),
              },
              'Give control',
            );
    const tabs =
      p.attachments === 0 ? 'away' : p.attachments === 1 ? null : `${p.attachments} tabs`;
    return h(
      'li',
      {
        'data-testid': 'participant',
        'data-role': p.role,
        'data-user-id': p.userId,
        class: p.attachments === 0 ? 'away' : null,
      },
      h(
        'div',
        { class: 'participant-line' },
        h('span', { class: 'participant-name', 'data-testid': 'participant-name' }, p.username),
        p.userId === actions.me ? h('span', { class: 'muted' }, ' (you)') : null,
      ),
      h(
        'div',
        { class: 'participant-line' },
        h(
          'span',
          { class: `role-tag role-${p.role}`, 'data-testid': 'participant-role' },
          ROLE_LABEL[p.role],
        ),
        tabs ? h('span', { class: 'muted' }, ` · ${tabs}`) : null,
      ),
      action,
    );
  });
}
