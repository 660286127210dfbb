// The channel an event came through: what `context.channel` says when it names one, else what the SDK
// that sent it implies, else hints in the source id. Names are memoized: there are few distinct ones.
import type { NormalizedEvent } from '../ingest/normalized.js';
import { CHANNELS, type Channel } from './partial.js';

/** `context.channel` values: ours, and Segment's own (`browser`, `mobile`, `server`). */
const CHANNEL_NAMES: ReadonlyMap<string, Channel> = new Map<string, Channel>([
  ...CHANNELS.map((c) => [c, c] as const),
  ['browser', 'web'],
  ['website', 'web'],
  ['mobile', 'app'],
  ['ios', 'app'],
  ['android', 'app'],
  ['miniprogram', 'mini-program'],
  ['mini_program', 'mini-program'],
  ['weapp', 'mini-program'],
  ['pos', 'store'],
  ['offline', 'store'],
  ['backend', 'server'],
]);

const MEMO_MAX = 500;
const libraryMemo = new Map<string, Channel | null>();
const sourceMemo = new Map<string, Channel | null>();

function memoized(memo: Map<string, Channel | null>, key: string, derive: (key: string) => Channel | null) {
  let channel = memo.get(key);
  if (channel === undefined) {
    channel = derive(key);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(key, channel);
  }
  return channel;
}

/**
 * Segment and RudderStack library names: analytics.js, analytics-next, "RudderLabs JavaScript SDK" (web);
 * analytics-ios/-android/-react-native/-swift/-kotlin, flutter (app); analytics-node/-python/-go...,
 * rudder-sdk-node (server); anything with miniprogram/weapp in it (mini-program).
 */
function libraryChannel(name: string): Channel | null {
  const n = name.toLowerCase();
  if (/mini-?program|weapp|wechat-mp|alipay-mp/.test(n)) return 'mini-program';
  if (/ios|android|react-native|flutter|swift|kotlin|xamarin|cordova|unity|capacitor/.test(n)) return 'app';
  if (/analytics\.js|analytics-next|javascript|browser|\bweb\b/.test(n)) return 'web';
  if (/node|python|ruby|java|php|dotnet|\.net|(^|[-_/ ])go($|[-_/ ])|clojure|rust|server/.test(n)) {
    return 'server';
  }
  return null;
}

/** Source ids name their system more often than not: `src_pos_shop1`, `store-berlin`, `crm`. */
function sourceChannel(sourceId: string): Channel | null {
  for (const token of sourceId.toLowerCase().split(/[^a-z0-9]+/)) {
    switch (token) {
      case 'pos':
      case 'store':
      case 'shop':
      case 'retail':
        return 'store';
      case 'web':
      case 'site':
      case 'website':
        return 'web';
      case 'app':
      case 'ios':
      case 'android':
      case 'mobile':
        return 'app';
      case 'miniprogram':
      case 'weapp':
        return 'mini-program';
      case 'social':
        return 'social';
      case 'server':
      case 'backend':
      case 'crm':
      case 'erp':
        return 'server';
    }
  }
  return null;
}

export function channelOf(e: Pick<NormalizedEvent, 'context' | 'sourceId'>): Channel {
  const channel = e.context === undefined ? null : contextChannel(e.context);
  return channel ?? memoized(sourceMemo, e.sourceId, sourceChannel) ?? 'other';
}

function contextChannel(ctx: Record<string, unknown>): Channel | null {
  const named = ctx.channel;
  if (typeof named === 'string') {
    const channel = CHANNEL_NAMES.get(named.toLowerCase());
    if (channel !== undefined) return channel;
  }
  const library = ctx.library;
  if (library !== null && typeof library === 'object') {
    const name = (library as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') {
      const channel = memoized(libraryMemo, name, libraryChannel);
      if (channel !== null) return channel;
    }
  }
  return ctx.app !== null && typeof ctx.app === 'object' ? 'app' : null;
}
