import { isLoopbackHost } from '../../src/config/loopback';

describe('isLoopbackHost', () => {
  test.each([
    '127.0.0.1',
    '127.1.2.3', // all of 127.0.0.0/8
    '::1',
    '[::1]', // the bracketed form of a URL or host:port
    '0:0:0:0:0:0:0:1', // ::1 written out
    '0000::1',
    '::ffff:127.0.0.1', // IPv4-mapped loopback
    'localhost',
    'LOCALHOST',
  ])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  test.each([
    '0.0.0.0', // every IPv4 interface
    '::', // every interface
    '10.0.0.1',
    '192.168.1.1',
    'example.com', // names are not resolved
    '::ffff:10.0.0.1', // IPv4-mapped, not loopback
    '::127.0.0.1', // the deprecated IPv4-compatible form is not loopback
    '128.0.0.1',
    '127.0.0.1.nip.io', // a name that merely starts like a loopback address
    'localhost.example.com',
    '[::1', // not a well-formed bracketed address
    '',
  ])('%j is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});
