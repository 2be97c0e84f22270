// The messaging domain: stores messages and tells a notifier whom to deliver them to.
// It knows nothing of Socket.IO.

/** Delivers an event to every connected socket of the given users. */
export type Notify = (userIds: string[], event: string, payload: unknown) => void;

export interface MessagingService {
  /** Placeholder until the messaging feature lands. */
  readonly ready: boolean;
}

export function createMessagingService(): MessagingService {
  return { ready: true };
}
