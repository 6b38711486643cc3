import { Metadata } from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { AuthenticationError } from '../../src/auth/identity';
import { JwtAuthenticator } from '../../src/auth/jwt-authenticator';

// An identity's `expiresAt` must be exactly when verification starts refusing its token: a stream
// ended earlier is cut while a fresh one would still open; one ended later outlives its token.

const secret = new TextEncoder().encode('a-unit-test-secret-that-is-long-enough');
const authenticator = new JwtAuthenticator({ keys: { key: secret, algorithms: ['HS256'] }, issuer: undefined, audience: 'chat', roleClaim: 'role' });
const EXP = 1_800_000_000;

async function metadataFor(exp: number): Promise<Metadata> {
  const token = await new SignJWT({ sub: 'joe', role: 'customer', aud: 'chat', exp }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** The identity at wall-clock time `at` (ms), or the reason it was refused. */
async function identifyAt(at: number, exp: number) {
  const metadata = await metadataFor(exp);
  // Only the clock is faked: the signature check needs real promises and ticks.
  jest.useFakeTimers({ now: at, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'hrtime', 'performance'] });
  try {
    return await authenticator.identify(metadata);
  } catch (err) {
    if (err instanceof AuthenticationError) return err.reason;
    throw err;
  } finally {
    jest.useRealTimers();
  }
}

test.each([
  ['a whole-second exp', EXP, (EXP + 30) * 1000],
  ['a fractional exp', EXP + 0.25, (EXP + 31) * 1000],
])('%s: expiresAt is the first millisecond at which verification refuses the token (30 s of tolerance)', async (_case, exp, refusedFrom) => {
  expect(await identifyAt(refusedFrom - 1, exp)).toEqual({ userId: 'joe', role: 'customer', admin: false, expiresAt: refusedFrom });
  expect(await identifyAt(refusedFrom, exp)).toBe('ERR_JWT_EXPIRED');
});
