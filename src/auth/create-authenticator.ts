import type { Config } from '../config/config';
import { DemoAuthenticator } from './demo-authenticator';
import type { Authenticator } from './identity';
import { JwtAuthenticator } from './jwt-authenticator';
import { loadVerificationKeys } from './jwt-keys';

/** The authenticator of `--auth`, with its keys loaded; a bad key file throws ConfigError. */
export function createAuthenticator(config: Config): Authenticator {
  if (config.auth === 'demo') return new DemoAuthenticator();
  return new JwtAuthenticator({
    keys: loadVerificationKeys(config),
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    roleClaim: config.jwtRoleClaim,
  });
}
