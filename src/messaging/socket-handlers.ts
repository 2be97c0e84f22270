// privatemsg and markread over Socket.IO: the session decides the sender (the article's
// `from_user` is ignored), the service does the rest, and every answer is an ack.
import { isDatabaseUnavailable } from '../db/errors.ts';
import { translator } from '../i18n/index.ts';
import type { Limiters } from '../http/rate-limits.ts';
import type { Logger } from '../log.ts';
import type { Failure } from '../realtime/events.ts';
import { onEvent, presenceRoom, type AppSocket, type SocketFeature } from '../realtime/io.ts';
import type { MessagingService, Refusal } from './service.ts';

function failure(t: ReturnType<typeof translator>, refusal: Refusal): Failure {
  const { vars, error, ...rest } = refusal;
  return { ...rest, error: t(error, vars) };
}

export function messagingSocketFeature(messaging: MessagingService, log: Logger, limiters: Pick<Limiters, 'watchPresence'>): SocketFeature {
  return (socket: AppSocket) => {
    const { userId, username, locale } = socket.data;
    const t = translator(locale);
    const internalError = (err: unknown): Failure =>
      isDatabaseUnavailable(err)
        ? { ok: false, code: 'unavailable', error: t('messaging.error.unavailable') }
        : { ok: false, code: 'server', error: t('messaging.error.server') };

    onEvent(socket, 'privatemsg', log, async (payload) => {
      const result = await messaging.send({ id: userId, username, origin: socket.id }, payload);
      if (!result.ok) return failure(t, result);
      return { ok: true as const, online: result.online, message: result.message, friend: result.friend, ...(result.group ? { group: result.group } : {}) };
    }, internalError);

    // Edit and delete one's own message: answered like a send; every tab of both hears `msgupdate`.
    onEvent(socket, 'editmsg', log, async (payload) => {
      const result = await messaging.editMessage({ id: userId, username }, payload);
      return result.ok ? result : failure(t, result);
    }, internalError);

    onEvent(socket, 'deletemsg', log, async (payload) => {
      const result = await messaging.deleteMessage({ id: userId, username }, payload);
      return result.ok ? result : failure(t, result);
    }, internalError);

    onEvent(socket, 'markread', log, async (payload) => {
      const result = await messaging.markRead({ id: userId, username }, payload);
      return result.ok ? result : failure(t, result);
    }, internalError);

    // Live online dots: the socket hears `presence` for the members it last asked about.
    let watching: string[] = [];
    onEvent(socket, 'watchpresence', log, async (payload) => {
      const limit = await limiters.watchPresence.consume(userId);
      if (!limit.ok) {
        return failure(t, { ok: false, code: 'rateLimited', error: 'safety.rateLimited', retryAfter: limit.retryAfterSeconds, vars: { seconds: limit.retryAfterSeconds } });
      }
      const result = await messaging.watchablePresence({ id: userId, username }, payload);
      if (!result.ok) return failure(t, result);
      for (const id of watching) void socket.leave(presenceRoom(id));
      watching = result.allowed;
      for (const id of watching) void socket.join(presenceRoom(id));
      return { ok: true as const, online: result.online };
    }, internalError);
  };
}
