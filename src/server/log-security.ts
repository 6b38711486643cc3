import type { Config } from '../config/config';
import { isLoopbackHost } from '../config/loopback';
import type { Logger } from '../log/logger';
import type { ServerTransport } from './server-credentials';

/** Says at start-up how callers are identified and how the wire is protected, loudest when it is not. */
export function logSecurity(config: Config, transport: ServerTransport, logger: Logger): void {
  const fields = { auth: config.auth, transport: transport.kind, certificate_expires: transport.certificateExpires };
  if (config.auth === 'demo' && config.insecureDemoAuth && !isLoopbackHost(config.host)) {
    logger.warn('demo auth on a non-loopback address: any caller can claim any id (--insecure-demo-auth)', fields);
  } else if (config.auth === 'demo') {
    logger.info('demo auth: callers name themselves, so only loopback addresses are served (use --auth jwt in production)', fields);
  } else {
    logger.info('jwt auth: callers need a signed Bearer token', { ...fields, jwt_issuer: config.jwtIssuer, jwt_audience: config.jwtAudience });
  }
  if (config.auth === 'jwt' && config.jwtAllowAnyAudience) {
    logger.warn("jwt auth accepts tokens whatever their 'aud' (--jwt-allow-any-audience): a token your identity provider minted for another service is taken here", fields);
  }
  if (transport.kind === 'plaintext' && !isLoopbackHost(config.host)) {
    logger.warn('serving without TLS on a non-loopback address: tokens and messages cross the network in clear text', fields);
  }
}
