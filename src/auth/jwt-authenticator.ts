import type { Metadata } from '@grpc/grpc-js';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { AuthenticationError, USER_ID_PATTERN, credentialOf, type Authenticator, type Identity, type Role } from './identity';
import type { VerificationKeys } from './jwt-keys';

export type JwtRules = Readonly<{
  keys: VerificationKeys;
  issuer: string | undefined;
  audience: string | undefined;
  /** The claim that says `customer`, `agent` or `admin`. */
  roleClaim: string;
}>;

/** Clocks of the token issuer and this server may disagree by this much. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** The same words for every failure: which check failed is for the log, not for the caller. */
const CLIENT_MESSAGE = "expected exactly one metadata value 'authorization: Bearer <valid token>'";

/**
 * Production auth: `authorization: Bearer <JWT>`, verified with jose against the configured key.
 * The user id is `sub`; the role is a claim. Tokens must carry `exp`: one that never expires
 * cannot be taken back, and a stream opened with one ends when it expires (`expiresAt`).
 */
export class JwtAuthenticator implements Authenticator {
  readonly roleHint: string;
  readonly adminHint: string;

  constructor(private readonly rules: JwtRules) {
    this.roleHint = `the token's "${rules.roleClaim}" claim says which`;
    this.adminHint = `an admin's token has "${rules.roleClaim}": "admin"`;
  }

  async identify(metadata: Metadata): Promise<Identity> {
    const token = credentialOf(metadata, 'bearer');
    if (token === undefined) throw new AuthenticationError(CLIENT_MESSAGE, 'no single Bearer authorization');
    const payload = await this.verify(token);
    const userId = payload.sub;
    if (userId === undefined || !USER_ID_PATTERN.test(userId)) {
      throw new AuthenticationError(CLIENT_MESSAGE, "'sub' is missing or not a valid user id");
    }
    const role = this.roleOf(payload);
    return { userId, role, admin: role === 'admin', expiresAt: acceptedUntil(payload.exp!) };
  }

  private async verify(token: string): Promise<JWTPayload> {
    const { keys, issuer, audience } = this.rules;
    try {
      const options = { algorithms: keys.algorithms, ...(issuer !== undefined && { issuer }), ...(audience !== undefined && { audience }), clockTolerance: CLOCK_TOLERANCE_SECONDS, requiredClaims: ['exp', 'sub'] };
      // The key is either a key or a key set's lookup; jose takes both, its overloads just not the union.
      const { payload } = await jwtVerify(token, keys.key as Parameters<typeof jwtVerify>[1], options);
      return payload;
    } catch (err) {
      if (err instanceof errors.JOSEError) throw new AuthenticationError(CLIENT_MESSAGE, err.code);
      // jose throws plain errors for malformed input too (e.g. a key set that has no usable key).
      throw new AuthenticationError(CLIENT_MESSAGE, 'malformed token');
    }
  }

  private roleOf(payload: JWTPayload): Role {
    const role = payload[this.rules.roleClaim];
    if (role === 'customer' || role === 'agent' || role === 'admin') return role;
    throw new AuthenticationError(CLIENT_MESSAGE, `claim '${this.rules.roleClaim}' is not "customer", "agent" or "admin"`);
  }
}

/**
 * The moment (ms) from which a token with this `exp` is refused: verification takes it while
 * `exp > now - tolerance` with `now` in whole seconds, so up to the second `exp + tolerance`, rounded up.
 */
function acceptedUntil(exp: number): number {
  return Math.ceil(exp + CLOCK_TOLERANCE_SECONDS) * 1000;
}
