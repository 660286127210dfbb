// The send decision's stage settings from the environment (lib/config.ts): defaults, overrides, and a
// ConfigError naming the variable for every bad value.
import { describe, expect, it } from 'vitest';
import { decisionSettings } from '../../lib/campaigns/decision.js';
import { ConfigError, DEFAULT_CAPS, parseConfig } from '../../lib/config.js';

describe('send decision settings', () => {
  it('default to a 5 % control group, the default caps, quiet 21:00-08:00 and explicit consent only', () => {
    const { sendDecision } = parseConfig({});
    expect(sendDecision).toMatchObject({
      controlPercent: 5,
      caps: DEFAULT_CAPS,
      quietHours: { start: '21:00', end: '08:00' },
      unknownConsentGranted: [],
    });
    expect(sendDecision.controlSalt.length).toBeGreaterThanOrEqual(8);
  });

  it('treat empty values (serverless.yml passes them for unset settings) as unset', () => {
    const { sendDecision } = parseConfig({
      PRECIS_CONTROL_GROUP_PERCENT: '',
      PRECIS_FREQUENCY_CAPS: '',
      PRECIS_QUIET_HOURS: '',
      PRECIS_CONSENT_UNKNOWN_GRANTED: '',
    });
    expect(sendDecision).toEqual(parseConfig({}).sendDecision);
  });

  it('take overrides: share, salt, caps per channel (others keep their default), quiet hours, consent policy', () => {
    const { sendDecision } = parseConfig({
      PRECIS_CONTROL_GROUP_PERCENT: '12.5',
      PRECIS_CONTROL_GROUP_SALT: 'stage-salt-2027',
      PRECIS_FREQUENCY_CAPS: 'email:2:5, all:3:9',
      PRECIS_QUIET_HOURS: '22:30-07:15',
      PRECIS_CONSENT_UNKNOWN_GRANTED: 'recommendations',
    });
    expect(sendDecision).toEqual({
      controlPercent: 12.5,
      controlSalt: 'stage-salt-2027',
      caps: { ...DEFAULT_CAPS, email: { perDay: 2, perWeek: 5 }, all: { perDay: 3, perWeek: 9 } },
      quietHours: { start: '22:30', end: '07:15' },
      unknownConsentGranted: ['recommendations'],
    });
    expect(parseConfig({ PRECIS_QUIET_HOURS: 'off' }).sendDecision.quietHours).toBeUndefined();
  });

  it.each([
    ['PRECIS_CONTROL_GROUP_PERCENT', '0.5'],
    ['PRECIS_CONTROL_GROUP_PERCENT', '16'],
    ['PRECIS_CONTROL_GROUP_PERCENT', 'five'],
    ['PRECIS_CONTROL_GROUP_SALT', 'short'],
    ['PRECIS_FREQUENCY_CAPS', 'fax:1:2'],
    ['PRECIS_FREQUENCY_CAPS', 'email:3:2'],
    ['PRECIS_FREQUENCY_CAPS', 'email::2'],
    ['PRECIS_FREQUENCY_CAPS', 'email:-1:2'],
    ['PRECIS_QUIET_HOURS', '21:00'],
    ['PRECIS_QUIET_HOURS', '25:00-08:00'],
    ['PRECIS_CONSENT_UNKNOWN_GRANTED', 'marketing,spam'],
  ])('refuse %s=%s, naming it', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(name);
  });

  it('become the decision settings with the stage zone and the webhook switch', () => {
    const c = parseConfig({ PRECIS_BUSINESS_TIMEZONE: 'Asia/Shanghai' });
    const settings = decisionSettings(c.sendDecision, c.businessTimezone, false);
    expect(settings).toMatchObject({
      defaultZone: 'Asia/Shanghai',
      salt: c.sendDecision.controlSalt,
      controlPercent: 5,
      webhookConfigured: false,
    });
  });
});
