import { ConfigError, parseConfig, type Config } from '../../src/config/config';

describe('parseConfig', () => {
  test('defaults are those of SPEC §6 and §7', () => {
    expect(parseConfig([], {})).toEqual({
      host: '127.0.0.1',
      port: 12345,
      db: './data/support.db',
      store: 'sqlite:./data/support.db',
      bus: 'local',
      pgSchema: 'public',
      instanceLeaseSeconds: 10,
      maxMessageBytes: 8192,
      maxHistoryBytes: 2097152,
      maxHistoryEntries: 10000,
      maxOpenSessions: 10,
      maxJoinsPerMinute: 120,
      maxStreamsPerUser: 20,
      maxConnections: 10000,
      maxBufferedBytes: 268435456,
      streamQueue: 1024,
      maxStreamsPerConnection: 100,
      idleTimeoutSeconds: 86400,
      sqliteSync: 'normal',
      keepaliveSeconds: 30,
      keepaliveTimeoutSeconds: 10,
      maxMessagesPerSecond: 50,
      messageBurst: 100,
      auth: 'demo',
      insecureDemoAuth: false,
      jwtSecretFile: undefined,
      jwtPublicKeyFile: undefined,
      jwtJwksFile: undefined,
      jwtIssuer: undefined,
      jwtAudience: undefined,
      jwtAllowAnyAudience: false,
      jwtRoleClaim: 'role',
      tlsCert: undefined,
      tlsKey: undefined,
      tlsClientCa: undefined,
      metricsPort: undefined,
      metricsHost: '127.0.0.1',
      retentionDays: undefined,
    });
  });

  test('metrics and retention are off unless given, from a flag or a variable', () => {
    expect(parseConfig(['--metrics-port', '0', '--metrics-host', '::1'], { SUPPORT_RETENTION_DAYS: '30' })).toMatchObject({ metricsPort: 0, metricsHost: '::1', retentionDays: 30 });
    expect(parseConfig([], { SUPPORT_METRICS_PORT: '9464' })).toMatchObject({ metricsPort: 9464 });
    expect(() => parseConfig(['--metrics-port', '70000'], {})).toThrow(/--metrics-port/);
    expect(() => parseConfig(['--retention-days', '0'], {})).toThrow(/--retention-days/);
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

  test('--insecure-demo-auth is a switch: alone it is on, it takes a value only after =, and its variable is read', () => {
    const lan = ['--host', '0.0.0.0'];
    expect(parseConfig([...lan, '--insecure-demo-auth', '--port', '1'], {})).toMatchObject({ insecureDemoAuth: true, port: 1 });
    expect(parseConfig([...lan, '--insecure-demo-auth=true'], {}).insecureDemoAuth).toBe(true);
    expect(parseConfig(lan, { SUPPORT_INSECURE_DEMO_AUTH: '1' }).insecureDemoAuth).toBe(true);
    expect(() => parseConfig([...lan, '--insecure-demo-auth=false'], {})).toThrow(/refusing demo auth on --host 0.0.0.0/);
    expect(() => parseConfig(['--insecure-demo-auth=maybe'], {})).toThrow(/--insecure-demo-auth/);
  });

  test('jwt mode takes exactly one key source, and its options', () => {
    const config = parseConfig(['--auth', 'jwt', '--jwt-public-key-file', 'k.pem', '--jwt-issuer', 'https://id.example', '--jwt-audience', 'chat', '--jwt-role-claim', 'support_role', '--host', '0.0.0.0'], {});
    expect(config).toMatchObject({ auth: 'jwt', jwtPublicKeyFile: 'k.pem', jwtIssuer: 'https://id.example', jwtAudience: 'chat', jwtRoleClaim: 'support_role', host: '0.0.0.0' });
  });

  test('--store picks the store; --db is short for --store sqlite:PATH; the bus follows the store (SPEC §8)', () => {
    expect(parseConfig(['--db', 'x.db'], {})).toMatchObject({ store: 'sqlite:x.db', db: 'x.db', bus: 'local' });
    expect(parseConfig(['--store', 'sqlite:y.db'], {})).toMatchObject({ store: 'sqlite:y.db', db: 'y.db', bus: 'local' });
    expect(parseConfig(['--store', 'sqlite:y.db', '--db', 'y.db'], {})).toMatchObject({ db: 'y.db' });
    const pg = parseConfig(['--store', 'postgres://db.example:5432/chat', '--pg-schema', 'support', '--instance-lease-seconds', '5'], {});
    expect(pg).toMatchObject({ store: 'postgres://db.example:5432/chat', bus: 'postgres', pgSchema: 'support', instanceLeaseSeconds: 5 });
    expect(parseConfig([], { SUPPORT_STORE: 'postgresql://localhost/chat', SUPPORT_BUS: 'local' })).toMatchObject({ bus: 'local' });
  });

  test.each([
    [['--store', 'postgres://h/db', '--db', 'x.db'], /--db x.db and --store postgres/],
    [['--store', 'sqlite:a.db', '--db', 'b.db'], /--db b.db and --store sqlite:a.db name different stores/],
    [['--bus', 'postgres'], /--bus postgres needs a PostgreSQL --store/],
    [['--pg-schema', 's'], /--pg-schema needs a PostgreSQL --store/],
    [['--instance-lease-seconds', '5'], /--instance-lease-seconds needs a PostgreSQL --store/],
    [['--store', 'mysql://h/db'], /--store/],
    [['--store', 'sqlite:'], /--store/],
    [['--store', 'postgres://h/db', '--pg-schema', 'bad-name'], /--pg-schema/],
    [['--store', 'postgres://h/db', '--bus', 'redis'], /--bus/],
  ])('the store combination %j is refused: %s', (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  test('jwt mode needs an audience, unless any audience is allowed explicitly', () => {
    const jwt = ['--auth', 'jwt', '--jwt-secret-file', 's'];
    expect(() => parseConfig(jwt, {})).toThrow(/--auth jwt needs --jwt-audience.*--jwt-allow-any-audience/);
    expect(parseConfig([...jwt, '--jwt-allow-any-audience'], {})).toMatchObject({ jwtAudience: undefined, jwtAllowAnyAudience: true });
    expect(parseConfig(jwt, { SUPPORT_JWT_AUDIENCE: 'chat' }).jwtAudience).toBe('chat');
    expect(() => parseConfig([...jwt, '--jwt-audience', 'chat', '--jwt-allow-any-audience'], {})).toThrow(/contradict/);
    expect(() => parseConfig(['--jwt-allow-any-audience'], {})).toThrow(/--jwt-allow-any-audience needs --auth jwt/);
  });

  test('the limits of SPEC §6 are read from their flags and variables', () => {
    const env = { SUPPORT_MAX_HISTORY_ENTRIES: '50', SUPPORT_MAX_JOINS_PER_MINUTE: '0', SUPPORT_MAX_STREAMS_PER_USER: '3' };
    const config = parseConfig(['--max-connections', '7', '--max-buffered-bytes', '1048576'], env);
    expect(config).toMatchObject({ maxHistoryEntries: 50, maxJoinsPerMinute: 0, maxStreamsPerUser: 3, maxConnections: 7, maxBufferedBytes: 1048576 });
    expect(() => parseConfig(['--max-history-entries', '0'], {})).toThrow(/--max-history-entries/);
    expect(() => parseConfig(['--max-connections', '0'], {})).toThrow(/--max-connections/);
  });

  // Every limit of SPEC §6: [flag, variable, field, a value other than the default].
  const limits: [string, string, keyof Config, string][] = [
    ['--max-message-bytes', 'SUPPORT_MAX_MESSAGE_BYTES', 'maxMessageBytes', '100'],
    ['--max-history-bytes', 'SUPPORT_MAX_HISTORY_BYTES', 'maxHistoryBytes', '4096'],
    ['--max-history-entries', 'SUPPORT_MAX_HISTORY_ENTRIES', 'maxHistoryEntries', '50'],
    ['--max-open-sessions', 'SUPPORT_MAX_OPEN_SESSIONS', 'maxOpenSessions', '3'],
    ['--max-joins-per-minute', 'SUPPORT_MAX_JOINS_PER_MINUTE', 'maxJoinsPerMinute', '0'],
    ['--max-messages-per-second', 'SUPPORT_MAX_MESSAGES_PER_SECOND', 'maxMessagesPerSecond', '0'],
    ['--message-burst', 'SUPPORT_MESSAGE_BURST', 'messageBurst', '7'],
    ['--max-streams-per-user', 'SUPPORT_MAX_STREAMS_PER_USER', 'maxStreamsPerUser', '0'],
    ['--max-connections', 'SUPPORT_MAX_CONNECTIONS', 'maxConnections', '7'],
    ['--stream-queue', 'SUPPORT_STREAM_QUEUE', 'streamQueue', '16'],
    ['--max-buffered-bytes', 'SUPPORT_MAX_BUFFERED_BYTES', 'maxBufferedBytes', '1048576'],
    ['--max-streams-per-connection', 'SUPPORT_MAX_STREAMS_PER_CONNECTION', 'maxStreamsPerConnection', '9'],
    ['--idle-timeout-seconds', 'SUPPORT_IDLE_TIMEOUT_SECONDS', 'idleTimeoutSeconds', '60'],
  ];

  test.each(limits)('%s: its variable %s sets it, the flag wins over the variable, a bad variable is refused by name', (flag, variable, field, value) => {
    expect(String(parseConfig([], {})[field])).not.toBe(value);
    expect(parseConfig([], { [variable]: value })[field]).toBe(Number(value));
    expect(parseConfig([flag, '5'], { [variable]: value })[field]).toBe(5);
    expect(() => parseConfig([], { [variable]: 'lots' })).toThrow(new RegExp(`${variable}: expected a whole number`));
  });

  test.each([
    [['--auth', 'jwt'], /exactly one of --jwt-secret-file, --jwt-public-key-file, --jwt-jwks-file/],
    [['--auth', 'jwt', '--jwt-secret-file', 's', '--jwt-jwks-file', 'j', '--jwt-audience', 'a'], /exactly one of/],
    [['--jwt-secret-file', 's'], /--jwt-secret-file needs --auth jwt/],
    [['--jwt-audience', 'a'], /--jwt-audience needs --auth jwt/],
    [['--auth', 'oauth'], /--auth/],
    [['--host', '0.0.0.0'], /refusing demo auth on --host 0.0.0.0.*--insecure-demo-auth/],
    [['--host', '192.168.1.10'], /refusing demo auth/],
    [['--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/],
    [['--tls-key', 'k.pem'], /--tls-cert and --tls-key go together/],
    [['--tls-client-ca', 'ca.pem'], /--tls-client-ca needs --tls-cert/],
    [['--max-messages-per-second', '-1'], /--max-messages-per-second/],
    [['--message-burst', '0'], /--message-burst/],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  test('a bad variable is refused naming the variable', () => {
    expect(() => parseConfig([], { SUPPORT_IDLE_TIMEOUT_SECONDS: 'soon' })).toThrow(/SUPPORT_IDLE_TIMEOUT_SECONDS/);
  });
});
