import { ConfigError, parseConfig } from '../../src/config/config';

describe('parseConfig', () => {
  test('defaults are those of SPEC §6 and §7', () => {
    expect(parseConfig([], {})).toEqual({
      host: '127.0.0.1',
      port: 12345,
      db: './data/support.db',
      maxMessageBytes: 8192,
      maxHistoryBytes: 2097152,
      maxOpenSessions: 10,
      streamQueue: 1024,
      maxStreamsPerConnection: 100,
      idleTimeoutSeconds: 86400,
      sqliteSync: 'normal',
      keepaliveSeconds: 30,
      keepaliveTimeoutSeconds: 10,
    });
  });

  test('SUPPORT_* variables set options, and a flag wins over its variable', () => {
    const config = parseConfig(['--port', '7000', '--max-message-bytes=100'], { SUPPORT_PORT: '6000', SUPPORT_MAX_OPEN_SESSIONS: '3', SUPPORT_SQLITE_SYNC: 'full' });
    expect(config).toMatchObject({ port: 7000, maxMessageBytes: 100, maxOpenSessions: 3, sqliteSync: 'full' });
  });

  test('the result is frozen', () => {
    expect(Object.isFrozen(parseConfig([], {}))).toBe(true);
  });

  test.each([
    [['--port', '-1'], /--port/],
    [['--port', '1.5'], /--port/],
    [['--port', ''], /--port/],
    [['--sqlite-sync', 'off'], /--sqlite-sync/],
    [['--stream-queue', '0'], /--stream-queue/],
    [['--db', '   '], /--db/],
    [['--port'], /--port needs a value/],
    [['--port', '--db', 'x'], /--port needs a value/],
    [['port', '1'], /unknown flag "port"/],
    [['--port', '1', '--port', '2'], /more than once/],
  ])('%j is refused with a message naming the flag', (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  test('a bad variable is refused naming the variable', () => {
    expect(() => parseConfig([], { SUPPORT_IDLE_TIMEOUT_SECONDS: 'soon' })).toThrow(/SUPPORT_IDLE_TIMEOUT_SECONDS/);
  });
});
