// The typing indicator, as NodeBB does it: a tab says "typing" when its message box turns
// non-empty, repeats it every few seconds while the member keeps typing, and says "stopped"
// when the box empties, on send and on blur; the server also says "stopped" for a tab that
// disconnects. Nothing is stored: the event goes through the recipient's room, so it reaches
// their tabs on every process through the adapter. A member who blocked the typist never
// hears it, and a socket may say it only a few times a second.
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { z } from 'zod';
import { isObjectIdString } from '../accounts/user-model.ts';
import type { UserReader } from '../accounts/user-cache.ts';
import { translator } from '../i18n/index.ts';
import type { Logger } from '../log.ts';
import type { TypingAck } from '../realtime/events.ts';
import { onEvent, userRoom, type AppSocket, type SocketFeature } from '../realtime/io.ts';

/** How often a typing tab repeats itself; a receiver forgets a typist it has not heard from in twice that. */
export const TYPING_REFRESH_MS = 3000;

const typingInput = z.object({
  to_user: z.string().refine(isObjectIdString),
  typing: z.boolean(),
});

export interface TypingDeps {
  readUser: UserReader;
  log: Logger;
  /** Events per socket per second: enough for a fast typist's empty ↔ non-empty flips. */
  eventsPerSecond?: number;
}

export function typingSocketFeature(deps: TypingDeps): SocketFeature {
  // Per process, per socket: a typing event is cheap and never stored, so a shared count
  // in Redis would cost more than what it protects.
  const limiter = new RateLimiterMemory({ points: deps.eventsPerSecond ?? 5, duration: 1 });

  return (socket: AppSocket) => {
    const { userId, username, locale } = socket.data;
    const t = translator(locale);
    /** Whom this socket last said it was typing to: told "stopped" when it goes. */
    const typingTo = new Set<string>();

    const tell = (recipientId: string, typing: boolean) =>
      socket.to(userRoom(recipientId)).emit('typing', { user: { _id: userId, username }, conversation: null, typing });

    onEvent(socket, 'typing', deps.log, async (payload): Promise<TypingAck> => {
      const input = typingInput.safeParse(payload);
      if (!input.success) return { ok: false, code: 'invalid', error: t('chat.typing.invalid') };
      const allowed = await limiter.consume(socket.id).then(() => true, () => false);
      if (!allowed) return { ok: false, code: 'rateLimited', error: t('chat.typing.tooFast'), retryAfter: 1 };
      const { to_user: recipientId, typing } = input.data;
      if (recipientId === userId) return { ok: true };
      const recipient = await deps.readUser(recipientId);
      // Someone who blocked the typist (or who does not exist) hears nothing; the typist is
      // told the same "ok" either way, so the answer gives no block away.
      if (!recipient || (recipient.blocked ?? []).includes(userId)) return { ok: true };
      if (typing) typingTo.add(recipientId);
      else typingTo.delete(recipientId);
      tell(recipientId, typing);
      return { ok: true };
    }, (): TypingAck => ({ ok: false, code: 'server', error: t('messaging.error.server') }));

    socket.on('disconnect', () => {
      for (const recipientId of typingTo) tell(recipientId, false);
      typingTo.clear();
      void limiter.delete(socket.id);
    });
  };
}
