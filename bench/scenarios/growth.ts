// Does a page slow down as the site fills up? One database, grown in place: the history
// page and the messages page of one signed-in member are measured with 10 k messages
// stored, then again after a million more (other members' conversations) have been
// added. Every hot read is an exact `_id` lookup, so the times should barely move.
//
// A board grows alongside: as many posts as messages at each size (10 k, then 1 M), and
// its newest page and the page holding its very first post are timed the same way.
//
// Then the other way a page grows: one member with 10 k conversations, whose inbox is
// a single document. Their messages page is timed, and so is a message sent to them
// (each one rewrites that document) against one sent to a member with a few.
import { INBOX_KEEP } from '../../src/messaging/store.ts';
import { BSON } from 'mongodb';
import { ClientPool, type BenchUser, type ConnectedUser } from '../lib/message-clients.ts';
import { measurePage, type PageRequest, type PageResult } from '../lib/http-load.ts';
import type { BenchOptions } from '../lib/options.ts';
import { startParleyFixture, type ParleyFixture } from '../lib/parley-fixture.ts';
import { formatNumber, formatSeconds, type Figure, type ScenarioReport } from '../lib/report-model.ts';
import { boardPostTitle, seedBoardPosts } from '../lib/seed-board.ts';
import { seedConversations, spreadConversations, type ConversationPlan, type SeedProgress } from '../lib/seed-messages.ts';
import { summarize, type LatencySummary } from '../lib/stats.ts';

/** Messages in each of the measured member's other conversations. */
const FRIEND_MESSAGES = 25;
/** Rounds of sends before the timed ones (every pair already has a seeded conversation). */
const WARMUP_SENDS = 1;
const SEND_TIMEOUT_MS = 30_000;
/** Sends that take seconds each stop after this long (with at least MIN_SENDS timed), so the run stays short. */
const SEND_BUDGET_MS = 30_000;
const MIN_SENDS = 5;

/** Requests one at a time before each page's load. */
const singleRequests = (options: BenchOptions) => (options.quick ? 5 : 30);
/** How long the board page may go on showing the app's kept copy of the board after seeding. */
const BOARD_CACHE_WAIT_MS = 10_000;

interface SeedStage {
  label: string;
  progress: SeedProgress;
}

interface PagePair {
  key: 'history' | 'messages' | 'board' | 'boardFirst';
  label: string;
  request: PageRequest;
  /** Text the page must contain: proof that the seeded data is what it shows. */
  expect: string;
}

interface PageTiming {
  /** One request at a time: the page's own time, without queueing. */
  single: LatencySummary;
  bytes: number;
}

/** Also under load: autocannon. */
type LoadedPage = PageTiming & { load: PageResult };

async function fetchPage(baseUrl: string, request: PageRequest): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}${request.path}`, { headers: request.headers, redirect: 'manual' });
  const body = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`${request.path} answered ${res.status}`);
  return { ms, body };
}

async function timePage(baseUrl: string, request: PageRequest, expect: string, singles: number): Promise<PageTiming> {
  const first = await fetchPage(baseUrl, request);
  if (!first.body.includes(expect)) throw new Error(`${request.path} does not show ${JSON.stringify(expect)}: the seeded data is not what the page reads`);
  const times: number[] = [];
  for (let i = 0; i < singles; i++) times.push((await fetchPage(baseUrl, request)).ms);
  return { single: summarize(times), bytes: Buffer.byteLength(first.body) };
}

/**
 * Round trips of privatemsg, from send to acknowledgement (stored: message, page and
 * both inboxes), one at a time. Rounds alternate between the pairs, which spreads any
 * disturbance on the machine over all of them.
 */
async function timeSends(pairs: [ConnectedUser, BenchUser][], count: number): Promise<LatencySummary[]> {
  const samples = pairs.map(() => [] as number[]);
  const started = performance.now();
  for (let round = 0; round < WARMUP_SENDS + count; round++) {
    if (round >= WARMUP_SENDS + MIN_SENDS && performance.now() - started > SEND_BUDGET_MS) break;
    for (const [i, [sender, recipient]] of pairs.entries()) {
      const clientId = `growth-${++sendCounter}`;
      const started = performance.now();
      const ack = (await sender.socket
        .timeout(SEND_TIMEOUT_MS)
        .emitWithAck('privatemsg', { to_user: recipient.id, content: `growth send ${sendCounter}`, client_id: clientId })) as { ok?: boolean };
      const ms = performance.now() - started;
      if (ack?.ok !== true) throw new Error(`privatemsg to ${recipient.username} was refused: ${JSON.stringify(ack)}`);
      if (round >= WARMUP_SENDS) samples[i]!.push(ms);
    }
  }
  return samples.map((s) => summarize(s));
}

let sendCounter = 0;

/**
 * The inbox document itself: its size, and what reading it and rewriting one entry cost
 * the engine when addressed by `_id` alone (what a send's write would cost if the engine
 * found the document by its key).
 */
async function timeInbox(fixture: ParleyFixture, ownerId: string, times: number): Promise<{ bytes: number; entries: number; read: LatencySummary; update: LatencySummary }> {
  const inboxes = fixture.db.collection<{ _id: string; v?: number; e?: Record<string, unknown> }>('inboxes');
  const reads: number[] = [];
  const updates: number[] = [];
  let doc = null;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    doc = await inboxes.findOne({ _id: ownerId });
    reads.push(performance.now() - started);
  }
  if (!doc) throw new Error(`no inbox for ${ownerId}`);
  const entries = Object.keys(doc.e ?? {});
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await inboxes.updateOne({ _id: ownerId }, { $set: { [`e.${entries[i % entries.length]}.unread`]: 0 }, $inc: { v: 1 } });
    updates.push(performance.now() - started);
  }
  return { bytes: BSON.calculateObjectSize(doc), entries: entries.length, read: summarize(reads), update: summarize(updates) };
}

export async function growthScenario(options: BenchOptions, progress: (line: string) => void): Promise<ScenarioReport> {
  const o = options.growth;
  const friendCount = o.viewerConversations - 1;
  const viewerMessages = o.historyMessages + friendCount * FRIEND_MESSAGES;
  if (o.smallMessages <= viewerMessages || o.largeMessages <= o.smallMessages) {
    throw new Error(`growth sizes do not fit: ${viewerMessages} messages of the measured member, then ${o.smallMessages}, then ${o.largeMessages}`);
  }
  const singles = singleRequests(options);
  const stages: SeedStage[] = [];
  const fixture = await startParleyFixture();
  const pool = new ClientPool(fixture.server.url);
  const seed = async (label: string, plans: Iterable<ConversationPlan>) => {
    let shown = 0;
    const result = await seedConversations(fixture.db, plans, {
      batchSize: o.batchSize,
      onProgress: (p) => {
        if (p.messages - shown < 100_000) return;
        shown = p.messages;
        progress(`  ${label}: ${formatNumber(p.messages, 0)} messages in ${formatSeconds(p.elapsedMs)}`);
      },
    });
    stages.push({ label, progress: result });
    progress(`seeded ${label}: ${formatNumber(result.messages, 0)} messages, ${formatNumber(result.pages, 0)} pages in ${formatSeconds(result.elapsedMs)} (${formatNumber((result.messages / result.elapsedMs) * 1000, 0)} msg/s)`);
    return result;
  };

  try {
    const [viewer, partner] = await fixture.createUsers(2, 'growthviewer');
    const friends = await fixture.createUsers(friendCount, 'growthfriend');
    const firstCrowd = await fixture.createUsers(Math.max(20, Math.round(o.users / 10)), 'growthfirst');
    const laterCrowd = await fixture.createUsers(o.users, 'growthlater');
    const pages: PagePair[] = [
      { key: 'history', label: 'History page `/messages/:username`', request: { path: `/messages/${partner!.username}`, headers: viewer!.headers }, expect: `#${o.historyMessages}` },
      { key: 'messages', label: 'Messages page `/messages`', request: { path: '/messages', headers: viewer!.headers }, expect: partner!.username },
      // The newest page shows a post of the latest stage (checked after each seeding); the
      // first page, the posts numbered 1 to 20 whatever the board's size.
      { key: 'board', label: 'Board page `/boards/general`', request: { path: '/boards/general', headers: viewer!.headers }, expect: '' },
      { key: 'boardFirst', label: 'Board page of its first post `/boards/general?before=21`', request: { path: '/boards/general?before=21', headers: viewer!.headers }, expect: boardPostTitle(1) },
    ];
    const seedBoard = async (total: number) => {
      const { seq, elapsedMs } = await seedBoardPosts(fixture.db, total, viewer!.id);
      pages.find((p) => p.key === 'board')!.expect = boardPostTitle(seq);
      progress(`seeded the board to ${formatNumber(seq, 0)} posts in ${formatSeconds(elapsedMs)}`);
      // The app keeps its list of boards (with the board's last number) for READ_CACHE_MS:
      // measure once its newest page shows the newest post.
      const board = pages.find((p) => p.key === 'board')!;
      const deadline = Date.now() + BOARD_CACHE_WAIT_MS;
      while (!(await fetchPage(fixture.server.url, board.request)).body.includes(board.expect)) {
        if (Date.now() > deadline) throw new Error(`the board page never showed ${board.expect}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    const firstPlans: ConversationPlan[] = [
      { a: viewer!, b: partner!, count: o.historyMessages },
      ...friends.map((friend) => ({ a: viewer!, b: friend, count: FRIEND_MESSAGES })),
      ...spreadConversations(firstCrowd, o.smallMessages - viewerMessages, o.perConversation),
    ];
    await seed(`${formatNumber(o.smallMessages, 0)} messages`, firstPlans);
    await seedBoard(o.smallMessages);

    const measured = new Map<string, { small?: LoadedPage; large?: LoadedPage }>();
    const measureAll = async (size: 'small' | 'large', stored: number) => {
      for (const page of pages) {
        const alone = await timePage(fixture.server.url, page.request, page.expect, singles);
        const timing = { ...alone, load: await measurePage(fixture.server.url, page.request, o) };
        measured.set(page.key, { ...measured.get(page.key), [size]: timing });
        progress(`${page.label} at ${formatNumber(stored, 0)}: ${formatNumber(timing.load.requestsPerSecond)} req/s, mean ${formatNumber(timing.load.latencyMean)} ms; alone p50 ${formatNumber(timing.single.p50)} ms`);
      }
    };
    // The first measurement would otherwise also pay for a cold process (JIT, template
    // and connection warm-up) that the second does not: a throwaway round of load first.
    for (const page of pages) await measurePage(fixture.server.url, page.request, { connections: o.connections, warmupSeconds: 0, seconds: o.warmupSeconds * 2 });
    await measureAll('small', o.smallMessages);
    // Two members who talk already, among the first to join (their inboxes come early in the collection).
    const [earlyA, earlyB] = await pool.connect([firstCrowd[0]!, firstCrowd[1]!]);
    const [earlySmall] = await timeSends([[earlyA!, earlyB!.user]], o.sends);
    progress(`send between two early members at ${formatNumber(o.smallMessages, 0)}: p50 ${formatNumber(earlySmall!.p50)} ms`);

    await seed(`${formatNumber(o.largeMessages - o.smallMessages, 0)} more`, spreadConversations(laterCrowd, o.largeMessages - o.smallMessages, o.perConversation));
    await seedBoard(o.largeMessages);
    await measureAll('large', o.largeMessages);
    // And two of the last to join, who talk with each other: their inboxes come last.
    const [lateA, lateB] = await pool.connect([laterCrowd.at(-2)!, laterCrowd.at(-1)!]);
    const [earlyLarge, lateLarge] = await timeSends([[earlyA!, earlyB!.user], [lateA!, lateB!.user]], o.sends);
    progress(`send at ${formatNumber(o.largeMessages, 0)}: between early members p50 ${formatNumber(earlyLarge!.p50)} ms, between late ones ${formatNumber(lateLarge!.p50)} ms`);

    // One member with a crowded inbox, one with a few conversations (like the viewer's),
    // and a member who sends to both. Their three inboxes are seeded next to each other,
    // so that wherever the engine finds a document matters equally to all three.
    const [crowded, few, sender] = await fixture.createUsers(3, 'growthcrowd');
    const started = performance.now();
    const others = await fixture.createUsers(o.crowdedConversations, 'growthother');
    const usersMs = performance.now() - started;
    await seed(`${formatNumber(o.crowdedConversations, 0)} conversations of one member`, [
      { a: sender!, b: few!, count: 2 },
      { a: sender!, b: crowded!, count: 2 },
      ...others.slice(0, friendCount - 1).map((other) => ({ a: few!, b: other, count: 2 })),
      ...others.map((other) => ({ a: crowded!, b: other, count: 2 })),
    ]);
    const crowdedRequest = { path: '/messages', headers: crowded!.headers };
    const crowdedPage = await timePage(fixture.server.url, crowdedRequest, others.at(-1)!.username, options.quick ? 3 : 5);
    progress(`crowded messages page: alone p50 ${formatNumber(crowdedPage.single.p50)} ms, ${formatNumber(crowdedPage.bytes / 1024, 0)} KiB`);
    const fewPage = await timePage(fixture.server.url, { path: '/messages', headers: few!.headers }, sender!.username, singles);
    const crowdedInbox = await timeInbox(fixture, crowded!.id, options.quick ? 3 : 10);
    const fewInbox = await timeInbox(fixture, few!.id, options.quick ? 3 : 10);

    const [senderClient] = await pool.connect([sender!, crowded!, few!]);
    const [crowdedSend, fewSend] = await timeSends([[senderClient!, crowded!], [senderClient!, few!]], o.sends);
    progress(`send to the crowded member p50 ${formatNumber(crowdedSend!.p50)} ms, to one with ${friendCount} conversations ${formatNumber(fewSend!.p50)} ms`);

    const sends = { earlySmall: earlySmall!, earlyLarge: earlyLarge!, lateLarge: lateLarge!, crowded: crowdedSend!, few: fewSend! };
    return report(options, { stages, measured, pages, crowdedPage, fewPage, crowdedInbox, fewInbox, sends, usersMs });
  } finally {
    await pool.close();
    await fixture.cleanup();
  }
}

interface Results {
  stages: SeedStage[];
  measured: Map<string, { small?: LoadedPage; large?: LoadedPage }>;
  pages: PagePair[];
  crowdedPage: PageTiming;
  fewPage: PageTiming;
  crowdedInbox: Awaited<ReturnType<typeof timeInbox>>;
  fewInbox: Awaited<ReturnType<typeof timeInbox>>;
  sends: { earlySmall: LatencySummary; earlyLarge: LatencySummary; lateLarge: LatencySummary; crowded: LatencySummary; few: LatencySummary };
  usersMs: number;
}

function report(options: BenchOptions, r: Results): ScenarioReport {
  const o = options.growth;
  const small = formatNumber(o.smallMessages, 0);
  const large = formatNumber(o.largeMessages, 0);
  const crowdedCount = formatNumber(o.crowdedConversations, 0);
  const figures: Figure[] = [];
  const pageRows: string[][] = [];
  for (const page of r.pages) {
    const { small: s, large: l } = r.measured.get(page.key)!;
    figures.push(
      { key: `parley.growth.${page.key}.ratio`, label: `${page.label}: time at ${large} ÷ at ${small}`, value: l!.load.latencyMean / s!.load.latencyMean, unit: '×' },
      { key: `parley.growth.${page.key}.small.rps`, label: `${page.label}, ${small} messages`, value: s!.load.requestsPerSecond, unit: 'req/s', chart: 'requests' },
      { key: `parley.growth.${page.key}.large.rps`, label: `${page.label}, ${large} messages`, value: l!.load.requestsPerSecond, unit: 'req/s', chart: 'requests' },
      { key: `parley.growth.${page.key}.small.mean`, label: `${page.label}, ${small} messages: mean latency`, value: s!.load.latencyMean, unit: 'ms' },
      { key: `parley.growth.${page.key}.large.mean`, label: `${page.label}, ${large} messages: mean latency`, value: l!.load.latencyMean, unit: 'ms' },
    );
    for (const [size, t] of [[small, s!], [large, l!]] as const) {
      pageRows.push([
        page.label,
        size,
        formatNumber(t.load.requestsPerSecond),
        formatNumber(t.load.latencyMean),
        formatNumber(t.load.latencyP50),
        formatNumber(t.load.latencyP99),
        formatNumber(t.single.p50),
        formatNumber(t.load.failures, 0),
      ]);
    }
    pageRows.push([page.label, 'ratio', formatNumber(s!.load.requestsPerSecond / l!.load.requestsPerSecond), formatNumber(l!.load.latencyMean / s!.load.latencyMean), formatNumber(l!.load.latencyP50 / s!.load.latencyP50), '', formatNumber(l!.single.p50 / s!.single.p50), '']);
  }
  const seededMessages = r.stages.reduce((total, s) => total + s.progress.messages, 0);
  const seedMs = r.stages.reduce((total, s) => total + s.progress.elapsedMs, 0);
  figures.push(
    { key: 'parley.growth.seed.rate', label: 'Seeding: messages (with their pages) per second', value: (seededMessages / seedMs) * 1000, unit: 'msg/s' },
    { key: 'parley.growth.crowded.page.p50', label: `Messages page with ${crowdedCount} conversations, one request at a time, p50`, value: r.crowdedPage.single.p50, unit: 'ms' },
    { key: 'parley.growth.few.page.p50', label: `Messages page with ${o.viewerConversations - 1} conversations, one request at a time, p50`, value: r.fewPage.single.p50, unit: 'ms' },
    { key: 'parley.growth.crowded.send.p50', label: `Send to a member with ${crowdedCount} conversations, ack p50`, value: r.sends.crowded.p50, unit: 'ms' },
    { key: 'parley.growth.few.send.p50', label: `Send to a member with ${o.viewerConversations - 1} conversations, ack p50`, value: r.sends.few.p50, unit: 'ms' },
    { key: 'parley.growth.send.small.p50', label: `Send between two early members, ${small} messages stored, ack p50`, value: r.sends.earlySmall.p50, unit: 'ms' },
    { key: 'parley.growth.send.large.p50', label: `Send between two early members, ${large} messages stored, ack p50`, value: r.sends.earlyLarge.p50, unit: 'ms' },
    { key: 'parley.growth.send.late.p50', label: `Send between two of the last members to join, ${large} messages stored, ack p50`, value: r.sends.lateLarge.p50, unit: 'ms' },
    { key: 'parley.growth.crowded.inboxKiB', label: `Inbox document with ${crowdedCount} entries`, value: r.crowdedInbox.bytes / 1024, unit: 'KiB' },
  );

  const failing = [...r.measured.values()].flatMap((m) => [m.small!, m.large!]).filter((t) => t.load.failures > 0);
  const fewLabel = `${o.viewerConversations - 1} conversations`;
  return {
    id: 'growth',
    title: 'Growth',
    method:
      `One FerretDB database grown in place. Seeded straight into the collections (insertMany in batches of ${formatNumber(o.batchSize, 0)}, ` +
      `documents built with the app's own helpers: messages, their history pages, conversations, inboxes), all read. ` +
      `First ${small} messages: the measured member's ${formatNumber(o.historyMessages, 0)}-message conversation and ${o.viewerConversations - 1} shorter ones, ` +
      `the rest among other members; then ${formatNumber(o.largeMessages - o.smallMessages, 0)} more among ${formatNumber(o.users, 0)} other members ` +
      `(${o.perConversation} per conversation), which leaves the measured member's pages showing the same thing. ` +
      `Beside the messages, the default board is seeded to as many posts at each size (posts and the board's bucketed list, numbered like the app numbers them); ` +
      'its newest page and the page holding its first post are measured like the other pages. ' +
      `Each page: ${singleRequests(options)} requests one at a time, then autocannon with ${o.connections} keep-alive connections for ${o.seconds} s after ${o.warmupSeconds} s of warm-up, ` +
      'signed in; the ratio is the mean latency under load at the large size over the small. ' +
      `At each size, up to ${o.sends} socket.io sends between two members who joined early, and at the large size also between two of the last to join, ` +
      'timed from emit to acknowledgement. ' +
      `Then a member with ${crowdedCount} conversations (their inbox document keeps the ${INBOX_KEEP} most recent, as the app trims it; the rest stay reachable by name): their messages page (one request at a time), and up to ${o.sends} sends ` +
      `to them, alternating with sends to a member with ${fewLabel}, from a third member whose inbox was seeded next to theirs (after ${WARMUP_SENDS} warm-up round; sends that take seconds stop after ${formatSeconds(SEND_BUDGET_MS)}, with at least ${MIN_SENDS} timed).`,
    figures,
    tables: [
      {
        caption: 'Pages as the database grows (ratio row: large ÷ small, requests/s small ÷ large)',
        head: ['page', 'messages stored', 'requests/s', 'mean (ms)', 'p50 (ms)', 'p99 (ms)', 'alone p50 (ms)', 'failed'],
        rows: pageRows,
      },
      {
        caption: 'Seeding',
        head: ['stage', 'messages', 'pages', 'conversations', 'inboxes', 'time', 'messages/s', 'documents/s'],
        rows: r.stages.map(({ label, progress: p }) => {
          const docs = p.messages + p.pages + p.conversations + p.inboxes;
          return [label, formatNumber(p.messages, 0), formatNumber(p.pages, 0), formatNumber(p.conversations, 0), formatNumber(p.inboxes, 0), formatSeconds(p.elapsedMs), formatNumber((p.messages / p.elapsedMs) * 1000, 0), formatNumber((docs / p.elapsedMs) * 1000, 0)];
        }),
      },
      {
        caption: 'Private messages as the database grows: ack round trips over socket.io, one at a time',
        head: ['between', 'messages stored', 'inboxes stored before theirs', 'sends', 'p50 (ms)', 'p90 (ms)', 'max (ms)'],
        rows: [
          ['two early members', small, 'few', r.sends.earlySmall] as const,
          ['two early members', large, 'few', r.sends.earlyLarge] as const,
          ['two of the last to join', large, 'all the others', r.sends.lateLarge] as const,
        ].map(([who, size, position, send]) => [who, size, position, formatNumber(send.count, 0), formatNumber(send.p50), formatNumber(send.p90), formatNumber(send.max)]),
      },
      {
        caption: `A crowded inbox: ${crowdedCount} conversations against ${fewLabel}`,
        head: ['member', 'inbox entries', 'inbox document (KiB)', 'inbox read by `_id` p50 (ms)', 'one entry updated by `_id` p50 (ms)', 'messages page alone p50 (ms)', 'page size (KiB)', 'sends', 'send ack p50 (ms)', 'send ack p90 (ms)'],
        rows: [
          [crowdedCount + ' conversations', r.crowdedInbox, r.crowdedPage, r.sends.crowded] as const,
          [fewLabel, r.fewInbox, r.fewPage, r.sends.few] as const,
        ].map(([label, inbox, page, send]) => [
          label,
          formatNumber(inbox.entries, 0),
          formatNumber(inbox.bytes / 1024),
          formatNumber(inbox.read.p50),
          formatNumber(inbox.update.p50),
          formatNumber(page.single.p50),
          formatNumber(page.bytes / 1024),
          formatNumber(send.count, 0),
          formatNumber(send.p50),
          formatNumber(send.p90),
        ]),
      },
    ],
    integrity: [],
    notes: [
      `Creating ${crowdedCount} members for the crowded inbox (users, usernames, sessions) took ${formatSeconds(r.usersMs)}.`,
      ...(failing.length ? [`${failing.length} page measurement(s) had failed requests (non-2xx or connection errors); their figures are not valid.`] : []),
    ],
  };
}
