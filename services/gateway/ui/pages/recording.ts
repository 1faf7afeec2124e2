import { create, type Player } from 'asciinema-player';
import { ApiError, api, errorMessage, type Recording } from '../api.js';
import type { Page } from '../app.js';
import { h, setText } from '../dom.js';
import { dateTime, duration, position } from '../format.js';
import { appHeader } from './header.js';

const SPEEDS = [0.5, 1, 1.5, 2, 4];

/**
 * /recordings/<id>: plays a recording with the asciinema player (play/pause and seek in its
 * bar, speed here), searches its text and jumps to each time it appeared, and offers the cast
 * and a plain-text export for download.
 */
export const recordingPage: Page = (root, { app, params }) => {
  const id = params[0] ?? '';
  document.title = 'Recording — Sallyport';
  let disposed = false;
  let player: Player | undefined;
  let cast: string | undefined;

  const title = h('h1', { id: 'recording-title' }, 'Recording');
  const meta = h('p', { id: 'recording-meta', class: 'muted' });
  const error = h('div', { id: 'recording-error', class: 'form-error', role: 'alert' });
  const container = h('div', { id: 'player', 'data-state': 'loading' });
  const speed = h(
    'select',
    { id: 'player-speed', 'aria-label': 'Speed' },
    ...SPEEDS.map((s) => h('option', { value: s, selected: s === 1 }, `${s}×`)),
  );
  const at = h('span', { id: 'player-position', class: 'muted' });
  const query = h('input', { id: 'search-query', type: 'search', placeholder: 'Search the text' });
  const hits = h('ol', { id: 'search-results' });
  const searchForm = h(
    'form',
    { id: 'search-form', class: 'inline-form' },
    query,
    h('button', { type: 'submit', id: 'search-submit' }, 'Search'),
  );

  const fail = (err: unknown): void => {
    if (err instanceof ApiError && err.status === 401) return app.loginRequired();
    setText(error, errorMessage(err));
  };

  /** A new player at `startAt` (speed is fixed at creation, so changing it makes a new one). */
  const mount = (startAt: number, playing: boolean): void => {
    if (!cast) return;
    player?.dispose();
    container.replaceChildren();
    player = create({ data: cast }, container, {
      speed: Number(speed.value),
      startAt,
      autoPlay: playing,
      fit: 'width',
      idleTimeLimit: 2,
    });
    container.dataset.state = 'ready';
  };

  speed.addEventListener('change', () => {
    if (!player) return;
    mount(player.getCurrentTime(), false);
  });

  const jump = async (time: number): Promise<void> => {
    if (!player) return;
    // A player that never played shows its start overlay over the screen; start it first.
    await player.play();
    await player.pause();
    await player.seek(time);
    container.scrollIntoView({ block: 'start' });
    setText(at, `at ${position(player.getCurrentTime())}`);
    at.dataset.time = String(player.getCurrentTime());
  };

  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = query.value.trim();
    if (!q) return;
    hits.replaceChildren(h('li', { class: 'muted' }, 'Searching…'));
    api
      .searchRecording(id, q)
      .then((found) => {
        hits.replaceChildren(
          ...found.map((hit) =>
            h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  'data-testid': 'search-hit',
                  'data-time': hit.time,
                  onclick: () => void jump(hit.time),
                },
                position(hit.time),
              ),
              ' ',
              h('code', {}, hit.context),
            ),
          ),
        );
        if (found.length === 0) hits.append(h('li', { class: 'muted' }, 'Not found.'));
      })
      .catch(fail);
  });

  const describe = (r: Recording): string =>
    [
      `${r.participants.join(', ')}`,
      dateTime(r.startedAt),
      duration(r.durationMs),
      r.status,
      r.gaps > 0 ? `${r.gaps} gap${r.gaps === 1 ? '' : 's'} in the recording` : '',
    ]
      .filter(Boolean)
      .join(' · ');

  void (async () => {
    try {
      const recording = await api.getRecording(id);
      if (disposed) return;
      setText(title, `${recording.serverName} — ${recording.username}`);
      setText(meta, describe(recording));
      cast = await api.castOf(id);
      if (disposed) return;
      mount(0, false);
    } catch (err) {
      container.dataset.state = 'failed';
      if (!disposed) fail(err);
    }
  })();

  const base = `/api/recordings/${encodeURIComponent(id)}`;
  root.append(
    appHeader(app),
    h(
      'main',
      { class: 'wide' },
      h(
        'div',
        { class: 'toolbar' },
        title,
        h('span', { class: 'spacer' }),
        h(
          'a',
          { href: `${base}/download`, class: 'button', id: 'download-cast' },
          'Download .cast',
        ),
        h('a', { href: `${base}/text`, class: 'button', id: 'download-text' }, 'Export text'),
      ),
      meta,
      error,
      container,
      h('div', { class: 'player-bar' }, h('label', {}, 'Speed ', speed), at),
      searchForm,
      hits,
    ),
  );
  return () => {
    disposed = true;
    player?.dispose();
  };
};
