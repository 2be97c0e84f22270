// Whether a page is connected for live updates, read off the wire rather than from the UI:
// after connecting, a signed-in page emits `adduser` with its own id and the server acks
// `true` (CONTRACT.md, Socket.IO events). A scenario that needs "the recipient is online"
// waits for that instead of sleeping and hoping.
import type { Page, Request, WebSocket } from 'playwright-core';

interface RealtimeState {
  ready: boolean;
  /** Ack ids of `adduser` emits still waiting for their answer. */
  pendingAcks: Set<string>;
  /** Bumped by each main-frame navigation, so a socket of the previous document is ignored. */
  generation: number;
  listeners: Set<() => void>;
}

const states = new WeakMap<Page, RealtimeState>();

// Engine.IO "message" (4) carrying a Socket.IO EVENT (2) or ACK (3), an optional
// namespace ("/chat,"), then the ack id and the JSON arguments.
const ADDUSER_WITH_ACK = /^42(?:\/[^,]*,)?(\d+)\["adduser"/;
const ACK = /^43(?:\/[^,]*,)?(\d+)\[([\s\S]*)\]$/;
/** Long-polling sends several packets in one body, separated by this. */
const PACKET_SEPARATOR = '\x1e';

function isSocketIo(url: string): boolean {
  return new URL(url).pathname.startsWith('/socket.io/');
}

function isPolling(request: Request): boolean {
  return isSocketIo(request.url()) && new URL(request.url()).searchParams.get('transport') === 'polling';
}

function text(payload: string | Buffer): string {
  return typeof payload === 'string' ? payload : payload.toString('utf8');
}

/** Called for every page of a watched context (browser.ts), before it loads anything. */
export function watchRealtime(page: Page): void {
  const state: RealtimeState = { ready: false, pendingAcks: new Set(), generation: 0, listeners: new Set() };
  states.set(page, state);

  const setReady = (ready: boolean) => {
    if (state.ready === ready) return;
    state.ready = ready;
    for (const listener of [...state.listeners]) listener();
  };
  const sent = (payload: string) => {
    for (const packet of payload.split(PACKET_SEPARATOR)) {
      const match = ADDUSER_WITH_ACK.exec(packet);
      if (match?.[1]) state.pendingAcks.add(match[1]);
    }
  };
  // Which connection the current "ready" came from: a WebSocket dropped by a quick offline
  // toggle can report its close after its successor was acknowledged, and that late close
  // must not mark the page offline again.
  let readyVia: unknown;
  const received = (payload: string, via: unknown) => {
    for (const packet of payload.split(PACKET_SEPARATOR)) {
      const match = ACK.exec(packet);
      if (match?.[1] && state.pendingAcks.delete(match[1]) && match[2] === 'true') {
        readyVia = via;
        setReady(true);
      }
    }
  };

  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      state.generation += 1;
      state.pendingAcks.clear();
      setReady(false);
    } else if (isPolling(request) && request.method() === 'POST') {
      sent(request.postData() ?? '');
    }
  });
  page.on('response', (response) => {
    const request = response.request();
    if (isPolling(request) && request.method() === 'GET' && response.ok()) {
      response.text().then((body) => received(body, 'polling'), () => undefined);
    }
  });
  page.on('websocket', (socket: WebSocket) => {
    if (!isSocketIo(socket.url())) return;
    const generation = state.generation;
    socket.on('framesent', ({ payload }) => sent(text(payload)));
    socket.on('framereceived', ({ payload }) => received(text(payload), socket));
    // Socket.IO upgrades to a WebSocket; when that closes, the page is offline until it
    // reconnects and is acknowledged again.
    socket.on('close', () => {
      if (generation === state.generation && (readyVia === socket || !state.ready)) setReady(false);
    });
  });
}

export function isRealtimeReady(page: Page): boolean {
  return states.get(page)?.ready ?? false;
}

/**
 * Waits until the page's live connection is up and acknowledged (`ready` true), or until it
 * has dropped (`ready` false).
 */
export async function waitForRealtime(page: Page, ready = true, timeoutMs = 15_000): Promise<void> {
  const state = states.get(page);
  if (!state) throw new Error('waitForRealtime: this page was not opened through newContext()');
  if (state.ready === ready) return;
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (state.ready !== ready) return;
      clearTimeout(timer);
      state.listeners.delete(check);
      resolve();
    };
    const timer = setTimeout(() => {
      state.listeners.delete(check);
      reject(
        new Error(
          ready
            ? `${page.url()}: no live connection within ${timeoutMs} ms (the page should emit "adduser" with the user's own id and get the ack true)`
            : `${page.url()}: the live connection did not drop within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    state.listeners.add(check);
  });
}
