// The headers that protect members in the browser (helmet): a strict CSP, no framing,
// no sniffing, HSTS behind TLS. One set for the pages (app.ts) and for Socket.IO's own
// responses (realtime/io.ts), which never pass through Express.
import helmet from 'helmet';
import type { Config } from '../config.ts';

export function securityHeaders(config: Pick<Config, 'trustProxy'>) {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        // Not behind TLS in development: do not force https on localhost.
        upgradeInsecureRequests: config.trustProxy ? [] : null,
      },
    },
    strictTransportSecurity: Boolean(config.trustProxy),
    // frame-ancestors 'none' says the same to browsers that read CSP; this, to those that do not.
    xFrameOptions: { action: 'deny' },
  });
}
