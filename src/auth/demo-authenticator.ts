import type { Metadata } from '@grpc/grpc-js';
import { AuthenticationError, USER_ID_PATTERN, credentialOf, type Authenticator, type Identity } from './identity';

/**
 * SPEC §1's demo scheme, `authorization: token <id>`: the caller says who it is and is believed.
 * The id is taken in lower case (as the original demo does); ids starting with `agent` are agents,
 * all others customers; ids starting with `admin` may also call the admin service.
 */
export class DemoAuthenticator implements Authenticator {
  readonly roleHint = 'ids of agents start with "agent"';
  readonly adminHint = 'ids of admins start with "admin"';

  async identify(metadata: Metadata): Promise<Identity> {
    const id = credentialOf(metadata, 'token');
    if (id === undefined || !USER_ID_PATTERN.test(id)) {
      throw new AuthenticationError("expected exactly one metadata value 'authorization: token <id>'", 'malformed demo token');
    }
    const userId = id.toLowerCase();
    return { userId, role: userId.startsWith('agent') ? 'agent' : 'customer', admin: userId.startsWith('admin') };
  }
}
