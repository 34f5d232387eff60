import { describe, expect, it } from 'vitest';
import { redact, retryAfterSeconds } from '../../functions/shared/adapters/channels/provider-http';
import { getConfig, providerDefaults } from '../../functions/shared/config';

describe('provider HTTP helpers', () => {
  it('reads Retry-After as delay-seconds or as an HTTP-date', () => {
    const now = Date.parse('2026-01-15T09:00:00Z');
    expect(retryAfterSeconds('120', now)).toBe(120);
    expect(retryAfterSeconds('Thu, 15 Jan 2026 09:00:30 GMT', now)).toBe(30);
    expect(retryAfterSeconds('Thu, 15 Jan 2026 08:00:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds('soon', now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });

  it('redacts the connection’s secrets and any /bot<token>/ path, and bounds the text', () => {
    expect(redact('GET https://api.telegram.org/bot123:AbC-xyz/getMe failed', [])).toBe('GET https://api.telegram.org/bot[redacted]/getMe failed');
    expect(redact('token EAAGsecret123 is invalid', ['EAAGsecret123'])).toBe('token [redacted] is invalid');
    expect(redact('x'.repeat(600), [])).toHaveLength(500);
  });
});

describe('provider configuration', () => {
  const base = { TABLE_NAME: 't' };

  it('defaults to the providers’ public APIs and a 10 s timeout', () => {
    expect(getConfig(base)).toMatchObject({ ...providerDefaults, sesConfigurationSet: undefined });
    expect(providerDefaults).toEqual({
      whatsappApiBaseUrl: 'https://graph.facebook.com/v23.0',
      telegramApiBaseUrl: 'https://api.telegram.org',
      twilioApiBaseUrl: 'https://api.twilio.com',
      providerTimeoutMs: 10_000,
    });
  });

  it('reads base URLs (trailing slash dropped), the timeout and the SES configuration set', () => {
    expect(
      getConfig({
        ...base,
        WHATSAPP_API_BASE_URL: 'http://127.0.0.1:9000/v23.0/',
        TELEGRAM_API_BASE_URL: 'http://127.0.0.1:9000/telegram',
        TWILIO_API_BASE_URL: 'http://127.0.0.1:9000/twilio/',
        PROVIDER_TIMEOUT_MS: '2500',
        SES_CONFIGURATION_SET: 'crm-events',
        SES_API_BASE_URL: 'http://127.0.0.1:9001/',
      }),
    ).toMatchObject({
      whatsappApiBaseUrl: 'http://127.0.0.1:9000/v23.0',
      telegramApiBaseUrl: 'http://127.0.0.1:9000/telegram',
      twilioApiBaseUrl: 'http://127.0.0.1:9000/twilio',
      providerTimeoutMs: 2500,
      sesConfigurationSet: 'crm-events',
      sesChannelEndpoint: 'http://127.0.0.1:9001',
    });
  });

  it('fails at cold start on a timeout that is not a positive integer', () => {
    expect(() => getConfig({ ...base, PROVIDER_TIMEOUT_MS: '10s' })).toThrow('PROVIDER_TIMEOUT_MS');
  });
});
