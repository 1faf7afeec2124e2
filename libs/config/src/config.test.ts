import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('gives a working embedded configuration with no settings', () => {
    const cfg = loadConfig({});
    expect(cfg.gateway.port).toBe(8443);
    expect(cfg.gateway.publicUrl).toBe('http://127.0.0.1:8443');
    expect(cfg.databaseUrl).toBeUndefined();
    expect(cfg.ssh.targetDeny.map((c) => `${c.address}/${c.prefix}`)).toContain('169.254.0.0/16');
  });

  it('names every bad setting', () => {
    const attempt = () =>
      loadConfig({ SALLYPORT_PORT: 'eighty', SALLYPORT_LOG_LEVEL: 'loud', REDIS_URL: 'not a url' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/SALLYPORT_PORT/);
    expect(attempt).toThrow(/SALLYPORT_LOG_LEVEL/);
    expect(attempt).toThrow(/REDIS_URL/);
  });

  it('refuses a bad CIDR in the target policy, naming the entry', () => {
    expect(() => loadConfig({ SALLYPORT_TARGET_DENY: '10.0.0.0/8, nonsense' })).toThrow(
      /SALLYPORT_TARGET_DENY: "nonsense"/,
    );
  });

  it('requires the admin bootstrap user and password together', () => {
    expect(() => loadConfig({ SALLYPORT_ADMIN_USER: 'admin' })).toThrow(/set both/);
    expect(() =>
      loadConfig({ SALLYPORT_ADMIN_USER: 'admin', SALLYPORT_ADMIN_PASSWORD: 'short' }),
    ).toThrow(/SALLYPORT_ADMIN_PASSWORD: must be at least 12/);
  });

  it('wants at least one line of screen history', () => {
    expect(() => loadConfig({ SALLYPORT_SCREEN_SCROLLBACK_LINES: '0' })).toThrow(
      /SALLYPORT_SCREEN_SCROLLBACK_LINES: must be a whole number from 1 to 100000/,
    );
    expect(loadConfig({ SALLYPORT_SCREEN_SCROLLBACK_LINES: '1' }).session.scrollbackLines).toBe(1);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('derives allowed origins and secure cookies from the public URL', () => {
    const cfg = loadConfig({
      SALLYPORT_PUBLIC_URL: 'https://ssh.example.com/',
      SALLYPORT_ALLOWED_ORIGINS: 'https://other.example.com',
    });
    expect(cfg.gateway.allowedOrigins).toEqual([
      'https://ssh.example.com',
      'https://other.example.com',
    ]);
    expect(cfg.gateway.secureCookies).toBe(true);
  });

  it('reads the SFTP settings, and wants a long internal secret', () => {
    const cfg = loadConfig({
      SALLYPORT_SFTP_WORKER_URL: 'http://sftp-worker:9102/',
      SALLYPORT_SFTP_MAX_UPLOAD_MB: '2',
    });
    expect(cfg.sftp).toMatchObject({ workerUrl: 'http://sftp-worker:9102', httpPort: 9102 });
    expect(cfg.sftp.maxUploadBytes).toBe(2 * 1024 * 1024);
    expect(() => loadConfig({ SALLYPORT_INTERNAL_SECRET: 'short' })).toThrow(
      /SALLYPORT_INTERNAL_SECRET: must be at least 32/,
    );
  });
});
