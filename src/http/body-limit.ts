// Refuses a body announced as far larger than the limit before reading any of it.
//
// body-parser refuses an oversized body too, but only after reading off all of it, so
// that the connection can be reused: a client announcing a gigabyte got no answer until
// it had sent one, or until the request timeout cut it off. Here such a client gets its
// 413 at once and the connection is closed behind the answer, the body unread.
//
// Only far past the limit: closing on a client that is still sending can reset the
// connection before it reads the answer. Someone who pasted a little too much text sends
// a body a few times the limit at most; body-parser's slower path shows them the page.
import type { NextFunction, Request, Response } from 'express';

/** How far past the limit an announced body is refused without being read. */
const UNREAD_FACTOR = 16;

export function refuseAnnouncedOversize(limitBytes: number) {
  const unreadAbove = limitBytes * UNREAD_FACTOR;
  return (req: Request, res: Response, next: NextFunction): void => {
    const announced = Number(req.headers['content-length']);
    if (!(announced > unreadAbove)) return next();
    res.set('Connection', 'close');
    // The same error body-parser gives, so that one error page serves both.
    next(Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' }));
  };
}
