// Property-based tests: random payloads of any shape at every socket event, with and
// without acknowledgement callbacks, and malformed packets on the wire. The server must
// never crash, must answer every event that waits for an answer with a clear error (or
// the contract's `false` for adduser and deleteuser), and must store nothing it should not.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import en from '../../locales/en/messaging.json' with { type: 'json' };
import { MessageModel } from '../../src/messaging/models.ts';
import type { SendbackPayload } from '../../src/realtime/events.ts';
import { accepted, sendRaw, useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { collect, connectAs, emitAck, emitRaw, type ClientSocket } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
let mallory: SignedInUser;
let bob: SignedInUser;
let socket: ClientSocket;
let bobReceived: SendbackPayload[];
/** Messages the fuzzer's sends were acknowledged for: the only ones that may be stored. */
const acknowledged = new Map<string, { to: string; content: string }>();
const tried: Record<string, number> = {};

const FAILURE_KEYS = new Set(['ok', 'code', 'error', 'field', 'retryAfter']);
const CODES = new Set(['invalid', 'notFound', 'self', 'blocked', 'rateLimited', 'unavailable', 'server']);
/** Every error a member can be shown, as a pattern: a clear message, never internals. */
const KNOWN_ERRORS = Object.values(en).map((text) => new RegExp(`^${text.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '.+')}$`));

function expectClearFailure(ack: unknown): void {
  expect(ack).toMatchObject({ ok: false, error: expect.any(String), code: expect.any(String) });
  const failure = ack as Record<string, unknown>;
  expect(Object.keys(failure).every((key) => FAILURE_KEYS.has(key))).toBe(true);
  expect(CODES.has(failure.code as string)).toBe(true);
  expect(KNOWN_ERRORS.some((pattern) => pattern.test(failure.error as string)), `unexpected error text: ${String(failure.error)}`).toBe(true);
}

beforeAll(async () => {
  server = running.current;
  [mallory, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
});

/** A connected socket for the fuzzer; a new one if a case made the server drop the last. */
async function fuzzerSocket(): Promise<ClientSocket> {
  if (!socket?.connected) socket = await connectAs(server.url, mallory);
  return socket;
}

/** Waits until no send or mark-read is still being written (those without an ack). */
async function writesSettled(): Promise<void> {
  while (server.messaging.writesInFlight > 0) await new Promise((resolve) => setImmediate(resolve));
}

/** The server is up, and stored exactly the acknowledged messages of the fuzzer, as sent. */
async function expectOnlyAcknowledgedStored(): Promise<void> {
  const stored = await MessageModel.find({ from: mallory.id }).lean();
  expect(stored.map((m) => m._id).sort()).toEqual([...acknowledged.keys()].sort());
  for (const m of stored) expect({ to: m.to, content: m.content }).toEqual(acknowledged.get(m._id));
}

// --- what random payloads are made of -------------------------------------------------

const anyValue = () =>
  fc.oneof(
    { weight: 4, arbitrary: fc.anything({ maxDepth: 3, maxKeys: 5, withNullPrototype: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }) },
    // Query operators and prototype keys, nested.
    fc.dictionary(fc.constantFrom('$ne', '$gt', '$regex', '$where', '$exists', '$in', '__proto__', 'constructor', 'toString'), fc.anything({ maxDepth: 2 }), { maxKeys: 3 }),
    fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 5 }),
    fc.integer(),
    fc.double(),
    // Long text, still under the socket's size cap (printable ASCII: at most 2 bytes each in JSON).
    fc.string({ unit: 'grapheme-ascii', minLength: 1990, maxLength: 12_000 }),
  );

/** Each field of a message gets either a plausible value or anything at all. */
const field = <T>(plausible: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 1, arbitrary: anyValue() });

function messagePayload(): fc.Arbitrary<unknown> {
  const ids = fc.oneof(fc.constantFrom(bob.id, bob.id.toUpperCase(), mallory.id, 'aaaaaaaaaaaaaaaaaaaaaaaa'), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 24, maxLength: 24 }));
  const names = fc.constantFrom(bob.username, bob.username.toUpperCase(), mallory.username, 'nobody-at-all', '.*', '', ' ');
  const content = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', ' \n\t ', '<script>x</script>'), fc.string({ unit: 'grapheme-ascii', minLength: 1995, maxLength: 2010 }));
  return fc.oneof(
    anyValue(),
    fc.record(
      { to_user: field(ids), to_username: field(names), content: field(content), client_id: field(fc.string({ maxLength: 140 })), from_user: field(fc.constant(bob.id)) },
      { requiredKeys: [] },
    ),
    // Mostly valid, so that acceptance is exercised too: any text, any client id.
    fc.record({ to_user: fc.constantFrom(bob.id, bob.id.toUpperCase()), content: fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }), client_id: fc.option(fc.uuid(), { nil: undefined }) }),
  );
}

function markReadPayload(): fc.Arbitrary<unknown> {
  const who = fc.record({ user: field(fc.constantFrom(bob.id, mallory.id)), username: field(fc.constant(bob.username)), upTo: field(fc.nat()) }, { requiredKeys: [] });
  return fc.oneof(anyValue(), who);
}

/** How the client waits for an answer: a callback, extra arguments before it, none, or a non-function in its place. */
const ackStyles = fc.constantFrom('callback', 'extra arguments', 'no callback', 'not a function');

type Answer = { answered: true; value: unknown } | { answered: false };

async function emitIn(style: string, event: string, payload: unknown): Promise<Answer> {
  const s = await fuzzerSocket();
  const label = `${EVENTS.includes(event) ? event : 'other event names'} (${style})`;
  tried[label] = (tried[label] ?? 0) + 1;
  if (style === 'callback') return { answered: true, value: await emitAck(s, event, payload) };
  if (style === 'extra arguments') return { answered: true, value: await emitAck(s, event, payload, { $ne: 1 }, 42) };
  if (style === 'no callback') emitRaw(s, event, payload);
  else emitRaw(s, event, payload, 42);
  // A round trip behind it: the event has been taken in, and the connection still works.
  expect(await emitAck(s, 'adduser', mallory.id)).toBe(true);
  await writesSettled();
  return { answered: false };
}

/** For a send nobody heard the answer to: the server's own record says what was accepted. */
async function learnUnansweredSends(): Promise<void> {
  const stored = await MessageModel.find({ from: mallory.id }).lean();
  for (const m of stored) if (!acknowledged.has(m._id)) acknowledged.set(m._id, { to: m.to, content: m.content });
}

const EVENTS = ['adduser', 'deleteuser', 'privatemsg', 'markread'];
// Bounded in time as well as in count, so that a slow machine shortens the run instead of failing it.
const RUNS = { numRuns: 250, interruptAfterTimeLimit: 12_000 };

describe('random payloads at every socket event', () => {
  it('privatemsg: answers with an acknowledged, stored message or a clear error, and stores nothing else', async () => {
    bobReceived = collect(await connectAs(server.url, bob), 'sendback');
    await fc.assert(
      fc.asyncProperty(messagePayload(), ackStyles, async (payload, style) => {
        const before = await MessageModel.countDocuments({ from: mallory.id });
        const answer = await emitIn(style, 'privatemsg', payload);
        if (answer.answered) {
          const ack = answer.value as { ok: boolean; message?: { _id: string; from: string; to: string; content: string } };
          if (ack.ok) {
            expect(ack.message!.from).toBe(mallory.id);
            expect(ack.message!.to).toBe(bob.id);
            const p = payload as { content: string };
            expect(ack.message!.content).toBe(p.content.trim());
            acknowledged.set(ack.message!._id, { to: ack.message!.to, content: ack.message!.content });
          } else {
            expectClearFailure(ack);
          }
        } else {
          const after = await MessageModel.countDocuments({ from: mallory.id });
          expect(after - before).toBeLessThanOrEqual(1);
          // Whatever was stored without an answer must still be a valid message to bob.
          // Judged as the server saw it: on the wire a boxed String is a plain string.
          const p = (payload === undefined ? {} : JSON.parse(JSON.stringify(payload) ?? '{}')) as { content?: unknown } | null;
          if (after > before) expect(typeof p?.content === 'string' && p.content.trim().length > 0).toBe(true);
          await learnUnansweredSends();
        }
        await expectOnlyAcknowledgedStored();
      }),
      RUNS,
    );
    // A send nobody heard the answer to may finish storing after its iteration's check (a
    // slow store under load): what the server stored is what it accepted.
    await writesSettled();
    await learnUnansweredSends();
    await expectOnlyAcknowledgedStored();
    // Every accepted message, and nothing else, reached bob.
    await emitAck(await connectAs(server.url, bob), 'adduser', bob.id);
    await expect.poll(() => bobReceived.map((p) => p.message._id).sort()).toEqual([...acknowledged.keys()].sort());
  });

  it('markread: answers with counts or a clear error, and never changes what is stored', async () => {
    await fc.assert(
      fc.asyncProperty(markReadPayload(), ackStyles, async (payload, style) => {
        const answer = await emitIn(style, 'markread', payload);
        if (!answer.answered) return;
        const ack = answer.value as { ok: boolean };
        if (ack.ok) expect(ack).toEqual({ ok: true, total: expect.any(Number), count: expect.any(Number) });
        else expectClearFailure(ack);
      }),
      RUNS,
    );
    await expectOnlyAcknowledgedStored();
  });

  it.each(['adduser', 'deleteuser'])('%s: answers true for the member\u2019s own id and false for anything else', async (event) => {
    const own = fc.constantFrom(mallory.id, mallory.id.toUpperCase());
    await fc.assert(
      fc.asyncProperty(fc.oneof(own, anyValue(), fc.constant(bob.id)), ackStyles, async (payload, style) => {
        const answer = await emitIn(style, event, payload);
        if (answer.answered) expect(answer.value).toBe(typeof payload === 'string' && payload.toLowerCase() === mallory.id);
      }),
      RUNS,
    );
    await emitAck(await fuzzerSocket(), 'adduser', mallory.id);
  });

  it('any other event name: answered with a clear error when the client waits for one', async () => {
    const reserved = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);
    const names = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('error', 'sendback', 'unread', 'read', 'constructor', '__proto__', 'hasOwnProperty', 'toString')).filter((name) => !reserved.has(name) && !EVENTS.includes(name));
    await fc.assert(
      fc.asyncProperty(names, anyValue(), ackStyles, async (event, payload, style) => {
        const answer = await emitIn(style, event, payload);
        if (answer.answered) expect(answer.value).toEqual({ ok: false, code: 'invalid', error: 'This server does not know that event.' });
      }),
      RUNS,
    );
  });
});

describe('malformed packets on the wire', () => {
  it('a broken packet costs at most its own connection: the server stays up and stores nothing', async () => {
    const crafted = fc.constantFrom(
      '42', '42[', '42[]', '42{}', '42"privatemsg"', '42[null]', '42[42,{}]', '421["privatemsg"', '42999999999999999999["privatemsg",{}]',
      '42["privatemsg",{"to_user":{"$ne":null},"content":"x"}]', '451-["privatemsg",{"_placeholder":true,"num":0}]', '451-["privatemsg",{"_placeholder":true,"num":7}]',
      '43[]', '431[true]', '41', '40', '40{"token":1}', '44', '49', '4', '2', '6', 'x',
    );
    const raw = fc.oneof(crafted, fc.string({ maxLength: 60 }).map((s) => `42${s}`), fc.string({ maxLength: 60 }).map((s) => `4${s}`));
    let dropped = 0;
    await fc.assert(
      fc.asyncProperty(raw, async (packet) => {
        tried['raw packet'] = (tried['raw packet'] ?? 0) + 1;
        const s = await fuzzerSocket();
        const closed = new Promise<string>((resolve) => s.once('disconnect', resolve));
        (s.io.engine as unknown as { send(data: string): void }).send(packet);
        // Either the connection still answers, or the server dropped it.
        const outcome = await Promise.race([emitAck(s, 'adduser', mallory.id).then((v) => ({ answered: v })), closed.then((reason) => ({ reason }))]);
        if ('reason' in outcome) dropped += 1;
        else expect(outcome.answered).toBe(true);
        await writesSettled();
        await learnUnansweredSends();
        await expectOnlyAcknowledgedStored();
      }),
      { numRuns: 80, interruptAfterTimeLimit: 15_000 },
    );
    tried['raw packet (connection dropped)'] = dropped;
  });
});

describe('the event size cap', () => {
  it.each([['websocket' as const], ['polling' as const]])('over %s, an oversized event drops only that connection; the member\u2019s other tab and the server carry on', async (transport) => {
    const [tab1, tab2] = await Promise.all([connectAs(server.url, mallory, { transports: [transport] }), connectAs(server.url, mallory)]);
    const closed = new Promise<string>((resolve) => tab1.once('disconnect', resolve));
    emitRaw(tab1, 'privatemsg', { to_user: bob.id, content: 'z'.repeat(server.config.limits.socketMaxBufferBytes + 1) });
    expect(await closed).toMatch(/transport (close|error)/);
    tried[`oversized event (${transport})`] = 1;
    expect(tab2.connected).toBe(true);
    const echoed = new Promise<SendbackPayload>((resolve) => tab2.once('sendback', resolve));
    const other = await connectAs(server.url, mallory);
    const ack = accepted(await sendRaw(other, { to_user: bob.id, content: 'after the oversized one' }));
    acknowledged.set(ack.message._id, { to: bob.id, content: 'after the oversized one' });
    expect((await echoed).message._id).toBe(ack.message._id);
    await expectOnlyAcknowledgedStored();
  });
});

describe('afterwards', () => {
  it('a valid send still works, and the counts of what was tried are reported', async () => {
    const ack = accepted(await sendRaw(await fuzzerSocket(), { to_user: bob.id, content: 'still here' }));
    acknowledged.set(ack.message._id, { to: bob.id, content: 'still here' });
    await expectOnlyAcknowledgedStored();
    const lines = Object.entries(tried).map(([label, count]) => `  ${label}: ${count}`);
    console.log(`socket fuzzing, cases tried:\n${lines.join('\n')}\nmessages acknowledged and stored: ${acknowledged.size}`);
  });
});
